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
from support.env import clean_env, need
from support.layouts import code_in_layout, request_in_layout
from support.steps import keys, step, steps
from support.tls import GRPC_METHOD, grpc_server, wss_server

# The oldest and newest pip supported: 22.3 is the first for Python 3.11 (and loads certifi with
# requests only); pip 24.2 and later verify through truststore on 3.10+ and also load certifi.
PIP_VERSIONS = ("22.3.1", "26.3")
CASES = [c for c in sorted(CLIENTS) if c != "pip"] + [f"pip=={v}" for v in PIP_VERSIONS]


pytestmark = pytest.mark.usefixtures("namespaces")


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


_GRPC_CALLS = """
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
import grpc

def call(credentials):
    options = (("grpc.ssl_target_name_override", "localhost"),)
    with grpc.secure_channel("ipv4:127.0.0.1:%d" % PORT, credentials, options) as channel:
        try:
            return channel.unary_unary({method!r})(b"hi", timeout=10).decode()
        except grpc.RpcError as exc:
            return "verify failed" if "CERTIFICATE_VERIFY_FAILED" in str(exc) else str(exc)

OUT["default"] = call(grpc.ssl_channel_credentials())
OUT["explicit"] = call(grpc.ssl_channel_credentials(root_certificates={explicit!r}))
OUT["trace"] = report.trace
OUT["steps"] = report.steps
"""


def _grpc_calls(layout, work, home, urls, bundle_pem, boot, explicit, **env):
    body = _GRPC_CALLS.format(method=GRPC_METHOD, explicit=explicit)
    url = urls["grpc"]
    return code_in_layout(layout, work, home, url, bundle_pem, boot, body, clean_env(home, **env))


@pytest.mark.parametrize("layout", ["rhel7", "sles-hashed-only"])
def test_grpc_default_roots_are_the_decision_explicit_roots_untouched(
    layout, tmp_path, home, urls, corp_ca, bundle_pem, render_bootstrap
):
    """No roots: the decision as PEM (a bundle file, or every file of a hashed directory).
    Explicit roots: exactly those (the corporate CA alone does not verify this server)."""
    corp = corp_ca.cert_pem.bytes()
    out = _grpc_calls(layout, tmp_path, home, urls, bundle_pem, render_bootstrap(), corp)
    assert out["default"] == "hi", out
    assert out["explicit"] == "verify failed", out
    assert keys(out).count("grpc.roots") == 1


def test_grpc_switch_off_and_grpcs_own_setting_leave_grpc_alone(
    tmp_path, home, urls, ca, bundle_pem, render_bootstrap
):
    """grpc = false in the config: not patched. GRPC_DEFAULT_SSL_ROOTS_FILE_PATH set by the
    user: grpc keeps the roots it names (here a file without the server's CA)."""
    pem = ca.cert_pem.bytes()
    off = _grpc_calls(
        "rhel7", tmp_path / "off", home, urls, bundle_pem, render_bootstrap(grpc=False), pem
    )
    assert off["default"] == "verify failed" and off["explicit"] == "hi", off
    assert not [key for key in keys(off) if key.startswith("grpc.")], off["steps"]
    other = tmp_path / "other.pem"
    other.write_bytes(
        bundle_pem.split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n"
    )
    own = _grpc_calls(
        "rhel7",
        tmp_path / "own",
        home,
        urls,
        bundle_pem,
        render_bootstrap(),
        pem,
        GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=str(other),
    )
    assert own["default"] == "verify failed" and own["explicit"] == "hi", own
    assert "grpc.env_roots" in keys(own) and "grpc.roots" not in keys(own)


_LATE_INSTALL = """
import aiohttp, httpx
import pip._vendor.requests as pip_requests  # binds pip._vendor.certifi's own where() at import
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
OUT["pip"] = pip_requests.get(URL, timeout=10).status_code
OUT["trace"] = report.trace
OUT["steps"] = report.steps
"""


def test_late_install_patches_vendored_certifi_and_names_early_clients(
    tmp_path, home, server, bundle_pem, render_bootstrap
):
    """pip's vendored requests imported before install() still verifies with the decision (the
    path its certifi copy handed out counts as certifi's); the trace names the clients that were
    imported first, whose earlier contexts keep stock trust."""
    boot = render_bootstrap()
    out = code_in_layout("rhel7", tmp_path, home, server, bundle_pem, boot, _LATE_INSTALL)
    assert out["pip"] == 200, out
    patched_now = [words.split()[0] for words in steps(out, "start.patch_imported")]
    assert "pip._vendor.certifi" in patched_now
    early = step(out, "start.early_clients")  # the words name the clients: they are the point
    for name in ("aiohttp", "httpx", "pip._vendor.requests"):
        assert name in early, early
