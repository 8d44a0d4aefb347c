"""`init` on real-world config shapes: the edit is read back by the real pyoxidizer and builds.

The corpus (tests/starlark/corpus/manifest.json) is our own configs in the shapes of public
projects' pyoxidizer.bzl, plus the two configs pyoxidizer 0.24 itself generates
(`init-config-file`, `init-rust-project`), made at test time. For each:
- `pyoxidizer-ssl init --write` (the CLI, from the project) exits 0 and writes the edit, and
  `pyoxidizer list-targets` (the real pyoxidizer: parse, load(), top-level evaluation) reads it;
- its resources target builds with the real pyoxidizer from the test distribution (every
  target function the resources target depends on runs: the macros, the config's own pip
  calls, callbacks, policies), and the blob holds the bootstrap.
The binaries themselves are linked and run in distro layouts by tests/exe/test_exe_corpus.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyoxidizer_ssl.build import pyoxidizer_command
from support.corpus import Entry, entries, pip_env, project
from support.distribution import Distribution
from support.env import clean_env, need
from support.exe import Rust, find_rust, pyoxidizer_ssl_build
from support.parse_check import list_targets
from support.resources import list_resources

ADOPTABLE = [e for e in entries() if e.resources is not None]


def init_write(project_dir: Path, home: str) -> subprocess.CompletedProcess[str]:
    """`pyoxidizer-ssl init --write`, run from the project as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "pyoxidizer_ssl", "init", "--write"],
        cwd=project_dir,
        env=clean_env(home),
        capture_output=True,
        text=True,
        check=False,
    )


def _parses(project_dir: Path, home: str) -> None:
    text = (project_dir / "pyoxidizer.bzl").read_text()
    parsed = list_targets(text, project_dir, home)
    assert parsed.returncode == 0, parsed.stderr[-3000:]
    assert "install" in parsed.stdout or "client" in parsed.stdout, parsed.stdout


@pytest.mark.parametrize("entry", ADOPTABLE, ids=lambda e: e.name)
def test_corpus_config_adopts_and_parses(entry: Entry, tmp_path: Path) -> None:
    project_dir = project(entry, tmp_path)
    before = (project_dir / "pyoxidizer.bzl").read_text()
    init = init_write(project_dir, str(tmp_path))
    assert init.returncode == 0, init.stderr
    after = (project_dir / "pyoxidizer.bzl").read_text()
    assert after != before
    assert after.count("pyoxidizer_ssl_executable(") == before.count(".to_python_executable(")
    assert ('certifi = "app"' in after) == entry.certifi_app
    assert all(line in after for line in before.splitlines() if line.lstrip().startswith("#"))
    _parses(project_dir, str(tmp_path))


def test_config_without_an_executable_is_refused_unchanged(tmp_path: Path) -> None:
    (entry,) = [e for e in entries() if e.resources is None]
    project_dir = project(entry, tmp_path)
    before = (project_dir / "pyoxidizer.bzl").read_text()
    init = init_write(project_dir, str(tmp_path))
    assert init.returncode == 2
    assert "it calls no DIST.to_python_executable(); nothing was changed" in init.stderr
    assert (project_dir / "pyoxidizer.bzl").read_text() == before
    assert not (project_dir / "build").exists()


@pytest.mark.parametrize("entry", ADOPTABLE, ids=lambda e: e.name)
def test_corpus_config_builds_its_resources_after_init(
    entry: Entry,
    tmp_path: Path,
    distribution: Distribution,
    pyoxidizer_home: str,
    oxidized: tuple[str, Path],
    wheelhouse: Path,
) -> None:
    project_dir = project(entry, tmp_path)
    assert init_write(project_dir, pyoxidizer_home).returncode == 0
    env = clean_env(pyoxidizer_home, **pip_env(project_dir, wheelhouse))
    assert entry.resources is not None
    proc = pyoxidizer_ssl_build(
        project_dir, env, "--distribution", str(distribution.archive), entry.resources
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = project_dir / "build" / distribution.target_triple / "debug" / entry.resources
    python, oxidized_dir = oxidized
    blob = list_resources(python, oxidized_dir, out / "packed-resources", pyoxidizer_home)
    assert "pyoxidizer_ssl_bootstrap" in blob
    assert "certifi" in blob


def _generated(kind: str, parent: Path, home: str) -> Path:
    """The config pyoxidizer 0.24 itself writes: `init-config-file` or `init-rust-project`."""
    env = clean_env(home)
    argv = [pyoxidizer_command(), kind, "app"]
    if kind == "init-rust-project":  # it runs `cargo init`: needs the machine's Rust
        rust: Rust = find_rust(parent / "target")
        env = rust.env(home)
        argv.insert(1, "--system-rust")
    proc = subprocess.run(
        argv, cwd=parent, env=env, capture_output=True, text=True, check=False, timeout=300
    )
    need(proc.returncode == 0 or kind != "init-rust-project", f"cargo init failed: {proc.stderr}")
    assert proc.returncode == 0, proc.stderr
    return parent / "app"


@pytest.mark.parametrize("kind", ["init-config-file", "init-rust-project"])
def test_pyoxidizers_own_generated_config_adopts_parses_and_builds(
    kind: str,
    tmp_path: Path,
    distribution: Distribution,
    pyoxidizer_home: str,
    oxidized: tuple[str, Path],
) -> None:
    project_dir = _generated(kind, tmp_path, pyoxidizer_home)
    before = (project_dir / "pyoxidizer.bzl").read_text()
    assert "\n        # If no argument passed, the default `PythonPackagingPolicy`" in before
    init = init_write(project_dir, pyoxidizer_home)
    assert init.returncode == 0, init.stderr
    after = (project_dir / "pyoxidizer.bzl").read_text()
    assert "    exe = pyoxidizer_ssl_executable(\n        dist = dist,\n" in after
    assert "        config=python_config,\n        vars = VARS,\n    )" in after
    _parses(project_dir, pyoxidizer_home)
    proc = pyoxidizer_ssl_build(
        project_dir,
        clean_env(pyoxidizer_home),
        "--distribution",
        str(distribution.archive),
        "resources",
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = project_dir / "build" / distribution.target_triple / "debug" / "resources"
    python, oxidized_dir = oxidized
    blob = list_resources(python, oxidized_dir, out / "packed-resources", pyoxidizer_home)
    assert "pyoxidizer_ssl_bootstrap" in blob
