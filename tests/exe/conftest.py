"""Fixtures for the real binaries: Rust, a linkable distribution, and each build, once a session.

Every binary is linked once per session and shared by the tests that run it; the builds share
one cargo target directory kept in pytest's cache (``.pytest_cache``), so a second session
starts warm (``--cache-clear`` makes it cold again).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from support.distribution import Distribution, cached
from support.env import need, python_for
from support.exe import Rust, build_tree, copy_example, find_rust
from support.wheels import requests_wheelhouse

PROBE_PROJECT = Path(__file__).resolve().parent / "probe_project"

# What run_filename runs: the probe's own commands, from a file outside the binary. Guarded, as
# multiprocessing requires: a spawn worker runs this file again as __mp_main__.
PROBE_SCRIPT = 'from probe.cli import main\n\nif __name__ == "__main__":\n    main()\n'

Built = Callable[[str, str], Path]


@pytest.fixture(scope="session")
def rust(request: pytest.FixtureRequest) -> Rust:
    return find_rust(Path(request.config.cache.mkdir("cargo-target")))


@pytest.fixture(scope="session")
def linkable(request: pytest.FixtureRequest) -> Distribution:
    """The local CPython 3.10 as a python-build-standalone archive with libpython's objects."""
    python = python_for("3.10")
    need(python is not None, "needs a local CPython 3.10 (pyenv install 3.10) to link against")
    assert python is not None
    need(shutil.which("ar") is not None, "needs ar (binutils) to unpack libpython's objects")
    return cached(python, Path(request.config.cache.mkdir("distributions")), linkable=True)


@pytest.fixture(scope="session")
def exe_home(pyoxidizer_home: str) -> str:
    """The exe layer's name for pyoxidizer_home (tests/conftest.py)."""
    return pyoxidizer_home


@pytest.fixture(scope="session")
def built(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    linkable: Distribution,
    rust: Rust,
    exe_home: str,
    corp_ca: trustme.CA,
) -> Built:
    """``built(example, target)``: the installed tree of an example's target, built once."""
    trees: dict[tuple[str, str], Path] = {}

    def _built(name: str, target: str = "install") -> Path:
        if (name, target) not in trees:
            project = copy_example(name, tmp_path_factory.mktemp("example"))
            extra: list[str] = []
            if name == "corporate-ca":  # the company root the test's intranet server chains to
                corp_ca.cert_pem.write_to_path(str(project / "certs" / "corp-root.pem"))
            if name == "requests-app":
                wheels = requests_wheelhouse(
                    Path(request.config.cache.mkdir("wheelhouse-requests-pure"))
                )
                extra = ["--var", "WHEELHOUSE", str(wheels)]
            trees[name, target] = build_tree(project, linkable, rust, exe_home, target, *extra)
        return trees[name, target]

    return _built


@pytest.fixture(scope="session")
def probe(
    tmp_path_factory: pytest.TempPathFactory, linkable: Distribution, rust: Rust, exe_home: str
) -> dict[str, Path]:
    """{kind: binary} for the probe app built six ways (see probe_project/pyoxidizer.bzl),
    and {"script": the file run_filename runs}."""
    root = tmp_path_factory.mktemp("probe")
    project = root / "probe"
    shutil.copytree(PROBE_PROJECT, project, ignore=shutil.ignore_patterns("build", "__pycache__"))
    script = root / "script.py"
    script.write_text(PROBE_SCRIPT)
    tree = build_tree(
        project, linkable, rust, exe_home, "all", "--var", "PROBE_SCRIPT", str(script)
    )
    kinds = ("run_module", "plain", "run_command", "run_filename", "repl", "broken")
    return {"script": script, **{kind: tree / kind / f"probe-{kind}" for kind in kinds}}
