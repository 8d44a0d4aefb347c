"""A CA given only as extra_ca verifies in every layout, store or no store.

Every client with no store and the CA only in extra_ca: test_clients.py.
"""

from __future__ import annotations

import pytest

from support.layouts import LAYOUTS, request_in_layout
from support.steps import step

CASES = [(name, "urllib") for name in sorted(LAYOUTS)]  # every layout, one client


pytestmark = pytest.mark.usefixtures("namespaces")


@pytest.mark.parametrize(("name", "client"), CASES)
def test_extra_ca_in_every_layout_and_client(
    name, client, tmp_path, home, corp_server, corp_ca, bundle_pem, render_bootstrap
):
    pem = tmp_path / "corp.pem"
    corp_ca.cert_pem.write_to_path(str(pem))
    boot = render_bootstrap(extra_ca=[str(pem)])
    stock = request_in_layout(
        name, tmp_path / "a", home, corp_server, bundle_pem, boot, install=False, client=client
    )
    assert "CERTIFICATE_VERIFY_FAILED" in stock["error"], stock
    ours = request_in_layout(
        name, tmp_path / "b", home, corp_server, bundle_pem, boot, client=client
    )
    assert ours.get("status") == 200, ours
    assert step(ours, "plan.extra_ca") == "extra CAs: 1 added to every context"
