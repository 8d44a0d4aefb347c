"""Corpus configs after `init --write`: linked into real binaries and run in a distro layout.

Each entry (tests/starlark/corpus) is adopted with the CLI, its install target is built with
`pyoxidizer-ssl build --system-rust` and the test distribution (pip offline from the stand-in
wheel and cached pure wheels), and the installed binary fetches from the loopback server in a
RHEL 7 layout, where a stock binary fails: it must answer 200 with the decision `system`.

CI links the entries marked exe_ci in manifest.json (one per placement and shape that matters
to the bootstrap: the generated layout, Python's own importer, a PythonDistribution helper,
a resource callback sending our packages to lib/, files mode); each extra link costs ~20-40 s.
PYOXIDIZER_SSL_TEST_CORPUS_ALL=1 links every entry.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
