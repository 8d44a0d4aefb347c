"""Pure-Python wheels of requests and its dependencies, for air-gapped example builds."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .env import need, python_for


def requests_wheelhouse(target: Path) -> Path:
    """Download requests' pure wheels into ``target`` once (PyPI); later calls reuse them.

    Pure wheels (charset_normalizer has a py3-none-any one) keep every module loadable from
    memory, so the embedded run needs no lib/ directory beside a binary.
    """
    python = python_for("3.10")
    need(python is not None, "needs a local CPython 3.10")
    assert python is not None
    if not list(target.glob("requests-*.whl")):
        # A download, not a test of our code: it keeps this machine's proxy/CA settings.
        proc = subprocess.run(
            [
                python,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--only-binary=:all:",
                "--platform",
                "any",
                "--python-version",
                "3.10",
                "--implementation",
                "py",
                "-d",
                str(target),
                "requests",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        need(proc.returncode == 0, f"cannot download requests wheels from PyPI: {proc.stderr}")
    return target
