"""Every client in the process gets the same decision: real clients, real handshakes.

Each client makes one verified request to a loopback server (HTTPS, WebSocket over TLS, gRPC over
TLS; pip downloads a wheel from the HTTPS server's simple index) from a fresh interpreter, with
the server's CA in two places no stock client looks at together:

- the rhel7 layout puts it only in the distro's system store, where stock OpenSSL does not look
  and which certifi users (requests, httpx, pip) and grpc (its own roots.pem) ignore;
- the no-store layout has no store at all and the CA only in extra_ca.

Each client fails without install() and verifies with it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from support.clients import CLIENTS, SERVER
from support.env import need
from support.layouts import request_in_layout, require_namespaces
from support.tls import grpc_server, wss_server

# The oldest and newest pip supported: 22.3 is the first for Python 3.11 (and loads certifi with
# requests only); pip 24.2 and later verify through truststore on 3.10+ and also load certifi.
PIP_VERSIONS = ("22.3.1", "26.3")
CASES = [c for c in sorted(CLIENTS) if c != "pip"] + [f"pip=={v}" for v in PIP_VERSIONS]


@pytest.fixture(autouse=True)
def _namespaces() -> None:
    require_namespaces()


@pytest.fixture(scope="session")
def urls(server: str, ca: trustme.CA) -> Iterator[dict[str, str]]:
    """The URL of each kind of server, all with certificates from ``ca``."""
    with wss_server(ca) as wss, grpc_server(ca) as grpcs:
        yield {"https": server, "wss": wss, "grpc": grpcs}


@pytest.fixture(scope="session")
def pip_wheels(request: pytest.FixtureRequest) -> dict[str, Path]:
    """The wheel of each pip in PIP_VERSIONS, fetched once from PyPI and cached.

    pip runs from its wheel (zipimport), so pip._vendor.certifi.where() is a temporary file,
    as it is for a binary that holds pip in memory.
    """
    cache = Path(request.config.cache.mkdir("pip-wheels"))
    wheels = {}
    for version in PIP_VERSIONS:
        found = list(cache.glob(f"pip-{version}-*.whl"))
        if not found:
            # A download, not a test of our code: it keeps this machine's proxy/CA settings.
            argv = ["download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", str(cache)]
            proc = subprocess.run(
                [sys.executable, "-m", "pip", *argv, f"pip=={version}"],
                capture_output=True,
                text=True,
                check=False,
            )
            need(proc.returncode == 0, f"cannot download pip {version} from PyPI: {proc.stderr}")
            found = list(cache.glob(f"pip-{version}-*.whl"))
        wheels[version] = found[0]
    return wheels


def _request(case, request, layout, work, home, urls, bundle_pem, boot, install=True):
    client, _, version = case.partition("==")
    paths = (str(request.getfixturevalue("pip_wheels")[version]),) if version else ()
    url = urls[SERVER.get(client, "https")]
    return request_in_layout(
        layout, work, home, url, bundle_pem, boot, install=install, client=client, paths=paths
    )


def _failed_verification(result: dict[str, object]) -> bool:
    return "status" not in result and "CERTIFICATE_VERIFY_FAILED" in str(result["error"])


# pip 24.2+ verifies through truststore, which finds RHEL's store by itself; not FreeBSD's.
NEWEST_PIP = f"pip=={PIP_VERSIONS[-1]}"
STOCK_VERIFIES = {(NEWEST_PIP, "rhel7")}


@pytest.mark.parametrize(
    ("case", "layout"), [(c, "rhel7") for c in CASES] + [(NEWEST_PIP, "freebsd")]
)
def test_client_follows_the_system_store(
    case, layout, request, tmp_path, home, urls, bundle_pem, render_bootstrap
):
    boot = render_bootstrap()
    args = (case, request, layout)
    stock = _request(*args, tmp_path / "stock", home, urls, bundle_pem, boot, install=False)
    if (case, layout) in STOCK_VERIFIES:
        assert stock.get("status") == 200, stock
    else:
        assert _failed_verification(stock), stock
    ours = _request(*args, tmp_path / "ours", home, urls, bundle_pem, boot)
    assert ours.get("status") == 200, ours
    assert ours["source"] == "system"


@pytest.mark.parametrize("case", CASES)
def test_client_trusts_extra_ca(
    case, request, tmp_path, home, urls, ca, bundle_pem, render_bootstrap
):
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    boot = render_bootstrap(extra_ca=[str(pem)])
    args = (case, request, "no-store")
    stock = _request(*args, tmp_path / "stock", home, urls, bundle_pem, boot, install=False)
    assert _failed_verification(stock), stock
    ours = _request(*args, tmp_path / "ours", home, urls, bundle_pem, boot)
    assert ours.get("status") == 200, ours
    assert ours["source"] == "certifi"
