"""Every client in the process gets the same decision: eight real clients, real handshakes.

The rhel7 layout puts the test CA only in the distro's system store, where stock OpenSSL does not
look and which requests/httpx (certifi's bundle) ignore: each client fails without install()
and verifies with it. The corporate server's CA exists only in extra_ca.
"""

from __future__ import annotations

import pytest

from support.clients import CLIENTS
from support.layouts import request_in_layout, require_namespaces


@pytest.fixture(autouse=True)
def _namespaces() -> None:
    require_namespaces()


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_client_follows_the_system_store(
    client, tmp_path, home, server, bundle_pem, render_bootstrap
):
    boot = render_bootstrap()
    stock = request_in_layout(
        "rhel7", tmp_path / "stock", home, server, bundle_pem, boot, install=False, client=client
    )
    assert "status" not in stock and "CERTIFICATE_VERIFY_FAILED" in stock["error"], stock
    ours = request_in_layout(
        "rhel7", tmp_path / "ours", home, server, bundle_pem, boot, client=client
    )
    assert ours.get("status") == 200, ours
    assert ours["source"] == "system"


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_client_trusts_extra_ca(
    client, tmp_path, home, corp_server, corp_ca, bundle_pem, render_bootstrap
):
    pem = tmp_path / "corp-root.pem"
    corp_ca.cert_pem.write_to_path(str(pem))
    boot = render_bootstrap(extra_ca=[str(pem)])
    result = request_in_layout(
        "debian", tmp_path / "ns", home, corp_server, bundle_pem, boot, client=client
    )
    assert result.get("status") == 200, result
