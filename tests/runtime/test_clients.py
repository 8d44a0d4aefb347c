"""Every client in the process gets the same decision: eight real clients, real handshakes.

The rhel7 layout puts the test CA only in the distro's system store, where stock OpenSSL does not
look and which requests/httpx (certifi's bundle) ignore: each client fails without install()
and verifies with it. (Clients with an extra CA: test_extra_ca.py.)
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
