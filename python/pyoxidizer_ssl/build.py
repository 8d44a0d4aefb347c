"""``pyoxidizer-ssl build``: render, then run the real ``pyoxidizer build`` with our --vars.

Offline and air-gapped builds (PyOxidizer#697) pass a local python-build-standalone archive; its
SHA-256 is computed here so the config never has to hard-code one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import certifi

from .render import DEFAULT_OUT

LOAD_LINE = (
    'load("build/pyoxidizer-ssl/pyoxidizer.bzl", '
    '"pyoxidizer_ssl_distribution", "pyoxidizer_ssl_executable")'
)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pyoxidizer_command() -> str:
    """The pyoxidizer executable installed beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "pyoxidizer"
    if beside.exists():
        return str(beside)
    found = shutil.which("pyoxidizer")
    if found is None:
        raise ValueError(
            "build: invalid environment; no pyoxidizer executable found; "
            "pip install pyoxidizer==0.24.0"
        )
    return found


def build_vars(project: Path, distribution: Path | None) -> dict[str, str]:
    """The --var values the macros in pyoxidizer.bzl read; ValueError for a bad project/archive."""
    if not (project / "pyoxidizer.bzl").is_file():
        raise ValueError(
            f"--project: invalid project {str(project)!r}; it has no pyoxidizer.bzl; "
            "pass the directory of your PyOxidizer project"
        )
    values = {
        "PYOXIDIZER_SSL_DIR": str((project / DEFAULT_OUT).resolve()),
        "PYOXIDIZER_SSL_CERTIFI_DIR": str(Path(certifi.__file__).resolve().parent.parent),
    }
    if distribution is not None:
        if not distribution.is_file():
            raise ValueError(
                f"--distribution: invalid archive {str(distribution)!r}; file not found; "
                "pass a python-build-standalone .tar.zst archive"
            )
        values["PYOXIDIZER_SSL_DISTRIBUTION"] = str(distribution.resolve())
        values["PYOXIDIZER_SSL_DISTRIBUTION_SHA256"] = sha256_of(distribution)
    return values


def run_build(
    project: Path, values: dict[str, str], targets: Sequence[str], extra: Sequence[str]
) -> int:
    """Run pyoxidizer on an already rendered project with ``values`` as --vars; its exit code."""
    argv = [pyoxidizer_command(), "build", "--path", str(project.resolve())]
    for key, value in sorted(values.items()):
        argv += ["--var", key, value]
    argv += [*extra, *targets]
    print("+ " + " ".join(argv), file=sys.stderr)
    # load() paths resolve against the working directory: run from the project.
    return subprocess.run(argv, cwd=project, env=dict(os.environ), check=False).returncode
