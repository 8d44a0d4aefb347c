"""The bootstrap and certifi load in every resource placement PyOxidizer offers, in real binaries.

One tiny app (probe: ``placement_project/``) is linked five ways through
``pyoxidizer_ssl_executable()``: everything in memory; everything in ``filesystem-relative:lib``
served by oxidized_importer; the same served by Python's own path importer, once with
``config.oxidized_importer = False`` and once with ``exe.packed_resources_load_mode = "none"``
set after the macros ran; and mixed (the bootstrap's modules and certifi's cacert.pem in lib/,
certifi's code in memory). Each binary runs in a RHEL 7 layout (the decision is the system
store) and in a layout with no store at all (the decision is the embedded certifi, whose bundle
here also holds the test CA: the request verifies only if that bundle was read from where the
placement put it). The app prints which loader served each package, so the placement is checked,
not assumed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import certifi
import pytest
import trustme

from support.distribution import Distribution
from support.env import clean_env
from support.exe import Rust, build_tree
from support.layouts import RHEL_BUNDLE, require_namespaces, run_in_layout

PROJECT = Path(__file__).resolve().parent / "placement_project"

OXIDIZED_MEMORY = "OxidizedFinder:memory"
OXIDIZED_FILE = "OxidizedFinder:file"
PATH_FILE = "SourceFileLoader:file"  # Python's own importer, from lib/*.py

# kind: (who serves the bootstrap, who serves certifi)
PLACEMENTS = {
    "memory": (OXIDIZED_MEMORY, OXIDIZED_MEMORY),
    "lib": (OXIDIZED_FILE, OXIDIZED_FILE),
    "lib_std": (PATH_FILE, PATH_FILE),
    "lib_none": (PATH_FILE, PATH_FILE),
    "mixed": (OXIDIZED_FILE, OXIDIZED_MEMORY),
}


@pytest.fixture(scope="session")
def placed(
    tmp_path_factory: pytest.TempPathFactory,
    linkable: Distribution,
    rust: Rust,
    exe_home: str,
    ca: trustme.CA,
) -> Path:
    """The `all` tree: <kind>/placed-<kind> and <kind>/lib/ for every placement."""
    root = tmp_path_factory.mktemp("placements")
    site = root / "site"
    shutil.copytree(
        Path(certifi.__file__).parent,
        site / "certifi",
        ignore=shutil.ignore_patterns("__pycache__", "tests"),
    )
    with (site / "certifi" / "cacert.pem").open("ab") as f:
        f.write(b"\n" + ca.cert_pem.bytes())
    project = root / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("build", "__pycache__"))
    return build_tree(
        project, linkable, rust, exe_home, "all", "--var", "TEST_CERTIFI_DIR", str(site)
    )


@pytest.mark.parametrize("layout", ["rhel7", "no-store"])
@pytest.mark.parametrize("kind", sorted(PLACEMENTS))
def test_placement_runs_in_a_distro_layout(
    kind, layout, placed, server, bundle_pem, home, tmp_path
):
    require_namespaces()
    binary = placed / kind / f"placed-{kind}"
    run = run_in_layout(
        layout,
        [str(binary), server],
        clean_env(home, PYOXIDIZER_SSL_DEBUG="1"),
        tmp_path,
        bundle_pem,
    )
    bootstrap, certifi_served = PLACEMENTS[kind]
    assert (run.returncode, run.stdout) == (
        0,
        f"200 bootstrap={bootstrap} certifi={certifi_served}\n",
    ), run.stderr[-3000:]
    decision = f"system ({RHEL_BUNDLE})" if layout == "rhel7" else "certifi ("
    assert f"pyoxidizer-ssl: decision: {decision}" in run.stderr, run.stderr[-3000:]


def test_on_disk_modules_carry_their_source(placed):
    """What makes Python's own importer work: lib/ holds the .py, not only __pycache__/*.pyc
    (which it would ignore, turning the directory into an empty namespace package)."""
    for kind in ("lib", "lib_std", "lib_none", "mixed"):
        lib = placed / kind / "lib"
        assert (lib / "pyoxidizer_ssl_bootstrap" / "__init__.py").is_file(), kind
    for kind in ("lib", "lib_std", "lib_none"):
        assert (placed / kind / "lib" / "certifi" / "core.py").is_file(), kind
    assert (placed / "mixed" / "lib" / "certifi" / "cacert.pem").is_file()
    assert not (placed / "mixed" / "lib" / "certifi" / "core.py").exists()
    assert not (placed / "memory" / "lib" / "pyoxidizer_ssl_bootstrap").exists()
