"""Environments built from scratch for every subprocess, and the skip-or-fail rule.

This machine exports SSL_CERT_FILE, SSL_CERT_DIR, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE,
GRPC_DEFAULT_SSL_ROOTS_FILE_PATH and more; a child that inherited them would pass whatever our
code does. Nothing here copies os.environ.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import certifi
import pytest

# Where certifi lives, for interpreters that run the bootstrap without our venv.
CERTIFI_PARENT = str(Path(certifi.__file__).resolve().parent.parent)

# .ci/run sets this: a missing part (an interpreter, namespaces) is then a failure, not a skip.
REQUIRE_ALL = os.environ.get("PYOXIDIZER_SSL_TEST_REQUIRE_ALL") == "1"

_SCRUBBED_PREFIXES = ("SSL_", "REQUESTS_", "CURL_", "GRPC_", "PYTHON", "PYOXIDIZER_SSL_")


def need(condition: bool, reason: str) -> None:
    """Skip the test with ``reason`` unless ``condition``; under CI, fail instead."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required for CI but missing: {reason}")
    pytest.skip(reason)


def clean_env(home: str, **extra: str) -> dict[str, str]:
    """A minimal environment: PATH, HOME, a UTF-8 locale, and only what is passed.

    XDG_CACHE_HOME is HOME's .cache unless passed: the between-runs cache then looks where it
    always did (a home under /tmp is refused: a private directory) and never in the host's own
    /dev/shm, shared by every test and run (pass XDG_CACHE_HOME="" to let it go there).
    """
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
    }
    env.update(extra)
    leaked = [k for k in env if k.startswith(_SCRUBBED_PREFIXES) and k not in extra]
    assert not leaked, leaked
    return env


def python_for(version: str) -> str | None:
    """Path of a local CPython ``version`` (e.g. '3.10'), or None."""
    pyenv = os.path.expanduser("~/.pyenv/versions")
    if os.path.isdir(pyenv):
        for name in sorted(os.listdir(pyenv), reverse=True):
            if name.startswith(version + "."):
                exe = os.path.join(pyenv, name, "bin", "python" + version)
                if os.path.exists(exe):
                    return exe
    if sys.version_info[:2] == tuple(int(x) for x in version.split(".")):
        return sys.executable
    return shutil.which("python" + version)


def run_python(
    code: str, env: dict[str, str], python: str = sys.executable, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh isolated interpreter (-I) with exactly ``env``."""
    return subprocess.run(
        [python, "-I", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def honour_file_modes(argv: list[str]) -> list[str]:
    """Prefix ``argv`` so that, even as root, the child cannot read a chmod 000 file.

    Root bypasses file modes through CAP_DAC_OVERRIDE; setpriv drops it (and DAC_READ_SEARCH)
    from the child's bounding set, so the kernel's real permission check applies.
    """
    if os.geteuid() != 0:
        return argv
    need(
        shutil.which("setpriv") is not None, "needs setpriv (util-linux) to drop root's file access"
    )
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *argv]


def _only_ours_up_to_root(path: Path) -> bool:
    """Whether every directory from / down to ``path`` (as given, no links) is ours or root's
    and writable by no one else: where the runtime's between-runs cache agrees to live."""
    uid = os.getuid()
    for current in (path, *path.parents):
        try:
            info = os.lstat(current)
        except OSError:
            return False
        if not stat.S_ISDIR(info.st_mode) or info.st_uid not in (0, uid) or info.st_mode & 0o022:
            return False
    return True


def only_ours_dir() -> Path:
    """A directory for tests that need a place only we and root can write, from / down: the
    checkout's .pytest_cache, or ~/.cache where the checkout lies under a directory others may
    write (a clean clone in /tmp, as CI may make). The caller makes its own subdirectory in it."""
    for base in (Path.cwd() / ".pytest_cache", Path.home() / ".cache"):
        if base.parent.is_dir() and _only_ours_up_to_root(base.parent):
            base.mkdir(mode=0o700, exist_ok=True)
        if _only_ours_up_to_root(base):
            path = base / "pyoxidizer-ssl-tests"
            path.mkdir(mode=0o700, exist_ok=True)
            if _only_ours_up_to_root(path):
                return path
    need(
        False,
        "the checkout and ~/.cache both lie where users other than root can write",
    )
    raise AssertionError("unreachable")
