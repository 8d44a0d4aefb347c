"""The real binaries inside distro layouts, each making a real HTTPS request to the loopback
server whose CA sits only in that distro's store (or only in the build's extra_ca).

The same app linked without the macros fails in the same layout with CERTIFICATE_VERIFY_FAILED,
as does the binary with PYOXIDIZER_SSL_DISABLE=1: the layouts are ones stock OpenSSL misses.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support.env import clean_env
from support.layouts import LAYOUTS, run_in_layout

# Distros whose store python-build-standalone's OpenSSL does not find by itself.
STORE_LAYOUTS = (
    "rhel7",
    "fedora43",
    "fedora43-directory-hash",
    "opensuse",
    "sles-hashed-only",
    "nixos",
    "freebsd",
)
VERIFY_FAILED = "CERTIFICATE_VERIFY_FAILED"


pytestmark = pytest.mark.usefixtures("namespaces")


def run_binary(
    binary: Path, layout: str, work: Path, bundle_pem: bytes, home: str, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``binary args`` inside ``layout`` with a clean environment plus ``env``."""
    return run_in_layout(layout, [str(binary), *args], clean_env(home, **env), work, bundle_pem)


@pytest.mark.parametrize("layout", STORE_LAYOUTS)
def test_probe_trusts_the_distro_store_where_plain_fails(
    layout, probe, server, bundle_pem, home, tmp_path
):
    ok = run_binary(
        probe["run_module"],
        layout,
        tmp_path / "ok",
        bundle_pem,
        home,
        "fetch",
        server,
        PYOXIDIZER_SSL_DEBUG="1",
    )
    assert (ok.returncode, ok.stdout) == (0, "ok\n"), ok.stderr[-3000:]
    assert f"pyoxidizer-ssl: decision: system ({LAYOUTS[layout].origin})\n" in ok.stderr
    plain = run_binary(
        probe["plain"], layout, tmp_path / "plain", bundle_pem, home, "fetch", server
    )
    assert plain.returncode == 1 and VERIFY_FAILED in plain.stderr, plain.stderr[-3000:]
    assert "pyoxidizer-ssl" not in plain.stderr
    off = run_binary(
        probe["run_module"],
        layout,
        tmp_path / "off",
        bundle_pem,
        home,
        "fetch",
        server,
        PYOXIDIZER_SSL_DISABLE="1",
        PYOXIDIZER_SSL_DEBUG="1",
    )
    assert off.returncode == 1 and VERIFY_FAILED in off.stderr, off.stderr[-3000:]
    assert "decision:" not in off.stderr


@pytest.mark.parametrize("name", ["urllib-app", "requests-app"])
@pytest.mark.parametrize("layout", STORE_LAYOUTS)
def test_example_trusts_the_distro_store(name, layout, built, server, bundle_pem, home, tmp_path):
    binary = built(name) / name
    ok = run_binary(binary, layout, tmp_path, bundle_pem, home, server, PYOXIDIZER_SSL_DEBUG="1")
    assert (ok.returncode, ok.stdout) == (0, "200\n"), ok.stderr[-3000:]
    assert f"pyoxidizer-ssl: decision: system ({LAYOUTS[layout].origin})\n" in ok.stderr


def test_no_store_falls_back_to_the_embedded_certifi(probe, server, bundle_pem, home, tmp_path):
    """With no store at all the decision is certifi; the test CA is no Mozilla root, so
    certifi alone rightly rejects the loopback server (extra_ca is how to add one: below)."""
    result = run_binary(
        probe["run_module"],
        "no-store",
        tmp_path,
        bundle_pem,
        home,
        "fetch",
        server,
        PYOXIDIZER_SSL_DEBUG="1",
    )
    assert "pyoxidizer-ssl: decision: certifi (certifi (embedded))\n" in result.stderr
    assert result.returncode == 1 and VERIFY_FAILED in result.stderr, result.stderr[-3000:]


@pytest.mark.parametrize("layout", ["no-store", "rhel7"])
def test_corporate_ca_reaches_the_intranet(layout, built, corp_server, bundle_pem, home, tmp_path):
    binary = built("corporate-ca") / "corporate-ca"
    ok = run_binary(
        binary, layout, tmp_path, bundle_pem, home, corp_server, PYOXIDIZER_SSL_DEBUG="1"
    )
    assert (ok.returncode, ok.stdout) == (0, "200\n"), ok.stderr[-3000:]
    assert "pyoxidizer-ssl: extra CAs: 1 added to every context" in ok.stderr
    source = "certifi (certifi (embedded))" if layout == "no-store" else "system ("
    assert f"pyoxidizer-ssl: decision: {source}" in ok.stderr


def test_two_targets_only_one_opts_in(built, bundle_pem, home, tmp_path):
    outputs = {}
    for target, name in (("install", "two-targets"), ("plain_install", "two-targets-plain")):
        binary = built("two-targets", target) / name
        proc = run_binary(binary, "rhel7", tmp_path / target, bundle_pem, home)
        assert proc.returncode == 0, proc.stderr[-3000:]
        outputs[target] = proc.stdout
    assert outputs == {"install": "bootstrap embedded\n", "plain_install": "plain\n"}
