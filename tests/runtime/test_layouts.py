"""A real handshake in each distro layout: stock OpenSSL vs. after install().

The test CA sits where each distro keeps its store. Without install() the binary's OpenSSL
(compiled-in /etc/ssl/cert.pem and /etc/ssl/certs) fails wherever those are missing, unhashed,
dangling or garbage; with install() every layout verifies, and the report names the store used.
"""

from __future__ import annotations

import ssl
import sys

import pytest

from support.env import clean_env
from support.layouts import (
    LAYOUTS,
    STORE_LAYOUTS,
    request_in_layout,
    run_in_layout,
)
from support.steps import keys

DEFAULTS = ssl.get_default_verify_paths()


pytestmark = pytest.mark.usefixtures("namespaces")


@pytest.mark.parametrize("name", STORE_LAYOUTS)
def test_stock_openssl_versus_install(name, tmp_path, home, server, bundle_pem, render_bootstrap):
    layout = LAYOUTS[name]
    boot = render_bootstrap()
    stock = request_in_layout(
        name, tmp_path / "stock", home, server, bundle_pem, boot, install=False
    )
    if layout.native_works:
        assert stock.get("status") == 200, stock
    else:
        assert "CERTIFICATE_VERIFY_FAILED" in stock.get("error", ""), stock

    ours = request_in_layout(name, tmp_path / "ours", home, server, bundle_pem, boot)
    assert ours.get("status") == 200, ours
    assert ours["source"] == "system"
    if layout.origin is None:
        assert (
            DEFAULTS.openssl_cafile in ours["origin"] or DEFAULTS.openssl_capath in ours["origin"]
        )
    else:
        assert ours["origin"] == layout.origin, ours["trace"]


def test_no_store_falls_back_to_certifi_and_never_widens(
    tmp_path, home, server, bundle_pem, render_bootstrap
):
    boot = render_bootstrap()
    result = request_in_layout("no-store", tmp_path, home, server, bundle_pem, boot)
    assert result["source"] == "certifi"
    # The test CA is in no store here and not in certifi: the handshake must still fail.
    assert "CERTIFICATE_VERIFY_FAILED" in result["error"], result
    assert keys(result).index("sources.system.none") < keys(result).index("decision.made")


@pytest.mark.parametrize("client", ["urllib", "requests"])
def test_truststore_source(client, tmp_path, home, server, bundle_pem, render_bootstrap):
    boot = render_bootstrap(trust=["env", "truststore", "certifi"])
    result = request_in_layout("rhel7", tmp_path, home, server, bundle_pem, boot, client=client)
    assert result.get("status") == 200, result
    assert result["source"] == "truststore"
    assert "patches.truststore" in keys(result)


@pytest.mark.parametrize(
    ("layout", "trust", "code", "first_line", "stock"),
    [
        (
            "fedora32",
            "env,system,certifi",
            0,
            "trust: system (/etc/pki/tls/certs/ca-bundle.crt)",
            "would FAIL every HTTPS call here",
        ),
        ("debian", "env,system,certifi", 0, "trust: system (", "would find certificates here"),
        (
            "no-store",
            "env,system,certifi",
            0,
            "trust: certifi (embedded), ",
            "would FAIL every HTTPS call here",
        ),
        (
            "no-store",
            "env,system",
            1,
            "trust: NOTHING USABLE (no source) - TLS verification",
            "would FAIL every HTTPS call here",
        ),
    ],
)
def test_doctor_in_a_layout(layout, trust, code, first_line, stock, tmp_path, home, bundle_pem):
    argv = [
        sys.executable,
        "-m",
        "pyoxidizer_ssl",
        "doctor",
        "--config",
        str(tmp_path / "none"),
        "--trust",
        trust,
    ]
    proc = run_in_layout(layout, argv, clean_env(home), tmp_path / "ns", bundle_pem)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout.startswith(first_line)
    assert (
        "without pyoxidizer-ssl: a binary looking in /etc/ssl/cert.pem and /etc/ssl/certs " + stock
    ) in proc.stdout
