"""The code is ruff-clean and mypy --strict clean (the house style asks for both).

The runtime is checked as it ships: rendered into build/lint/ (gitignored) and checked there
against Python 3.8, its lowest version, with the project's own settings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyoxidizer_ssl import config, render

ROOT = Path(__file__).resolve().parent.parent
RENDERED = ROOT / "build" / "lint"


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def runtime() -> str:
    """The runtime rendered with every source in its trust list, relative to the project."""
    settings = config.validate({"trust": ["env", "system", "certifi", "truststore"]}, ROOT)
    package = render.render(settings, RENDERED).package
    return str(package.relative_to(ROOT))


def test_ruff_check(runtime: str) -> None:
    proc = _run("ruff", "check", ".", runtime)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format() -> None:
    proc = _run("ruff", "format", "--check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict() -> None:
    proc = _run("mypy")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_runtime_on_python_38(runtime: str) -> None:
    proc = _run("mypy", "--python-version", "3.8", runtime)
    assert proc.returncode == 0, proc.stdout + proc.stderr
