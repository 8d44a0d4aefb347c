"""Fixtures for the Starlark layer: a local distribution, the real oxidized_importer, wheels."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support.distribution import Distribution, assemble
from support.env import need, python_for
from support.oxidized import oxidized_python
from support.wheels import requests_wheelhouse

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="session")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> Distribution:
    python = python_for("3.10")
    need(
        python is not None,
        "needs a local CPython 3.10 (pyenv install 3.10) to assemble a distribution",
    )
    assert python is not None
    return assemble(python, tmp_path_factory.mktemp("distribution"))


@pytest.fixture(scope="session")
def oxidized(request: pytest.FixtureRequest) -> tuple[str, Path]:
    return oxidized_python(Path(request.config.cache.mkdir("oxidized")))


@pytest.fixture(scope="session")
def wheelhouse(request: pytest.FixtureRequest) -> Path:
    """Pure-Python wheels of requests and its dependencies, fetched once from PyPI and cached."""
    return requests_wheelhouse(Path(request.config.cache.mkdir("wheelhouse-requests-pure")))


@pytest.fixture
def example(tmp_path: Path):
    """Copy an example project to a private directory (builds write into the project)."""

    def _copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(EXAMPLES / name, dest, ignore=shutil.ignore_patterns("build"))
        return dest

    return _copy
