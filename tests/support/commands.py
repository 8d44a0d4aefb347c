"""The two commands the tests run as a user would: ``pyoxidizer-ssl`` and the real ``pyoxidizer``.

Each runs in a subprocess with exactly the environment the caller builds (tests/support/env.py:
this machine exports SSL_CERT_FILE and friends, which a test must never inherit), captures text
output and never raises on a non-zero exit: the test asserts on the code and the message.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pyoxidizer_ssl.build import pyoxidizer_command


def pyoxidizer_ssl(
    *args: str, cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pyoxidizer_ssl args`` from ``cwd`` with exactly ``env``."""
    return _run([sys.executable, "-m", "pyoxidizer_ssl", *args], cwd, env, timeout)


def pyoxidizer(
    project: Path, *args: str, cwd: Path, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real ``pyoxidizer build --path project args`` from ``cwd`` with exactly ``env``."""
    argv = [pyoxidizer_command(), "build", "--path", str(project), *args]
    return _run(argv, cwd, env, timeout)


def _run(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=timeout
    )
