"""Corpus configs after `init --write`: linked into real binaries and run in a distro layout.

Each entry (tests/starlark/corpus) is adopted with the CLI, its install target is built with
`pyoxidizer-ssl build --system-rust` and the test distribution (pip offline from the stand-in
wheel and cached pure wheels), and the installed binary fetches from the loopback server in a
RHEL 7 layout (where a binary without the macros fails: tests/exe/test_exe_layouts.py): it
must answer 200 with the decision `system`.

CI links the three entries marked exe_ci in manifest.json (~1 min each on 2 cores, pip
included): PyOxidizer's generated layout, a PythonDistribution helper with Python's own
importer, and files mode. Python's own importer and a callback sending our packages to lib/ are
linked in CI by test_exe_placements.py already. PYOXIDIZER_SSL_TEST_CORPUS_ALL=1 links every entry.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyoxidizer_ssl.build import pyoxidizer_command
from support.corpus import Entry, entries, pip_env, project
from support.distribution import Distribution
from support.env import clean_env
from support.exe import Rust, pyoxidizer_ssl_build
from support.layouts import RHEL_BUNDLE, require_namespaces, run_in_layout

ALL = os.environ.get("PYOXIDIZER_SSL_TEST_CORPUS_ALL") == "1"
LINKED = [e for e in entries() if e.install is not None and (e.exe_ci or ALL)]


@pytest.mark.parametrize("entry", LINKED, ids=lambda e: e.name)
def test_corpus_binary_runs_in_a_distro_layout(
    entry: Entry,
    tmp_path: Path,
    linkable: Distribution,
    rust: Rust,
    exe_home: str,
    request: pytest.FixtureRequest,
    server: str,
    bundle_pem: bytes,
    home: str,
) -> None:
    require_namespaces()
    from support.wheels import requests_wheelhouse

    wheelhouse = requests_wheelhouse(Path(request.config.cache.mkdir("wheelhouse-requests-pure")))
    project_dir = project(entry, tmp_path)
    init = subprocess.run(
        [sys.executable, "-m", "pyoxidizer_ssl", "init", "--write"],
        cwd=project_dir,
        env=clean_env(exe_home),
        capture_output=True,
        text=True,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    assert entry.install is not None and entry.binary is not None
    env = rust.env(exe_home, **pip_env(project_dir, wheelhouse))
    proc = pyoxidizer_ssl_build(
        project_dir,
        env,
        "--distribution",
        str(linkable.archive),
        "--system-rust",
        "--cargo-target-dir",
        str(rust.target_dir),
        entry.install,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    tree = project_dir / "build" / linkable.target_triple / "debug" / entry.install
    binary = tree / entry.binary
    assert binary.is_file(), sorted(str(p.relative_to(tree)) for p in tree.rglob("*"))[:50]
    run = run_in_layout(
        "rhel7",
        [str(binary), server],
        clean_env(home, PYOXIDIZER_SSL_DEBUG="1"),
        tmp_path / "ns",
        bundle_pem,
    )
    assert (run.returncode, run.stdout) == (0, "200\n"), run.stderr[-3000:]
    assert f"pyoxidizer-ssl: decision: system ({RHEL_BUNDLE})\n" in run.stderr


def test_pyoxidizers_generated_config_binary_runs_in_a_distro_layout(
    tmp_path: Path,
    linkable: Distribution,
    rust: Rust,
    exe_home: str,
    server: str,
    bundle_pem: bytes,
    home: str,
) -> None:
    """`pyoxidizer init-config-file`'s config after `init --write`: a REPL binary (it has no
    run target), fed a script on stdin. One test-side line adds a lib/ fallback to its policy:
    the test distribution's extension modules are shared libraries (python-build-standalone's
    are built in and need none)."""
    require_namespaces()
    subprocess.run(
        [pyoxidizer_command(), "init-config-file", "app"],
        cwd=tmp_path,
        env=clean_env(exe_home),
        capture_output=True,
        check=True,
    )
    project_dir = tmp_path / "app"
    init = subprocess.run(
        [sys.executable, "-m", "pyoxidizer_ssl", "init", "--write"],
        cwd=project_dir,
        env=clean_env(exe_home),
        capture_output=True,
        text=True,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    bzl = project_dir / "pyoxidizer.bzl"
    policy = "    policy = dist.make_python_packaging_policy()\n"
    assert policy in bzl.read_text()
    bzl.write_text(
        bzl.read_text().replace(
            policy, policy + '    policy.resources_location_fallback = "filesystem-relative:lib"\n'
        )
    )
    proc = pyoxidizer_ssl_build(
        project_dir,
        rust.env(exe_home),
        "--distribution",
        str(linkable.archive),
        "--system-rust",
        "--cargo-target-dir",
        str(rust.target_dir),
        "install",
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    binary = project_dir / "build" / linkable.target_triple / "debug" / "install" / "app"
    script = f"import urllib.request; print(urllib.request.urlopen({server!r}, timeout=10).status)"
    run = run_in_layout(
        "rhel7",
        ["sh", "-c", 'printf "%s\\n" "$1" | "$2"', "sh", script, str(binary)],
        clean_env(home, PYOXIDIZER_SSL_DEBUG="1"),
        tmp_path / "ns",
        bundle_pem,
    )
    assert (run.returncode, run.stdout) == (0, "200\n"), run.stderr[-3000:]
    assert f"pyoxidizer-ssl: decision: system ({RHEL_BUNDLE})\n" in run.stderr
