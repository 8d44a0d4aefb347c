"""The fast paths accept and reject exactly the handshakes the slow path does.

Slow path: stock OpenSSL with SSL_CERT_FILE naming the bundle (loaded whole per context).
Fast path: install() with the bundle split into a private hashed directory.
Fallback: install() where no temporary directory is writable (bundle loaded per context).
Six servers cover a good chain, an unknown CA, intermediates sent or only in the bundle, a
wrong host name and an expired leaf.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import sys
from contextlib import ExitStack
from pathlib import Path

import certifi
import pytest
import trustme

from support.env import CERTIFI_PARENT, clean_env
from support.layouts import RHEL_BUNDLE, require_namespaces, run_in_layout
from support.tls import port_of, serve

CHECK = """
import json, os, socket, ssl, sys
sys.path[:0] = json.loads(sys.argv[1])
if sys.argv[2] == "ours":
    import pyoxidizer_ssl_bootstrap
    report = pyoxidizer_ssl_bootstrap.install()
outcomes = {}
for name, port in json.loads(sys.argv[3]).items():
    ctx = ssl.create_default_context()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            with ctx.wrap_socket(sock, server_hostname=sys.argv[4]):
                outcomes[name] = "ok"
    except ssl.SSLCertVerificationError as exc:
        outcomes[name] = exc.verify_message
if sys.argv[2] == "ours":
    outcomes["_capath"] = report.capath and os.path.realpath(report.capath)
    outcomes["_cafile"] = report.cafile
print("RESULT " + json.dumps(outcomes))
"""


def _server_context(
    chain_pems: list[bytes], key_pem: bytes, tmp: Path, name: str
) -> ssl.SSLContext:
    chain = tmp / f"{name}-chain.pem"
    key = tmp / f"{name}-key.pem"
    chain.write_bytes(b"".join(chain_pems))
    key.write_bytes(key_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(chain), str(key))
    return ctx


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("servers")
    root = trustme.CA(organization_name="fast-path root")
    intermediate = root.create_child_ca()
    stranger = trustme.CA(organization_name="unknown root")
    now = dt.datetime.now(dt.timezone.utc)
    certs = {
        "good": root.issue_cert("localhost"),
        "unknown-ca": stranger.issue_cert("localhost"),
        "intermediate-sent": intermediate.issue_cert("localhost"),
        "intermediate-in-bundle": intermediate.issue_cert("localhost"),
        "wrong-host": root.issue_cert("elsewhere.test"),
        "expired": root.issue_cert(
            "localhost",
            not_before=now - dt.timedelta(days=30),
            not_after=now - dt.timedelta(days=1),
        ),
    }
    bundle = (
        Path(certifi.where()).read_bytes() + root.cert_pem.bytes() + intermediate.cert_pem.bytes()
    )
    with ExitStack() as stack:
        ports = {}
        for name, cert in certs.items():
            pems = [p.bytes() for p in cert.cert_chain_pems]
            if name == "intermediate-in-bundle":
                pems = pems[:1]  # the server sends only its leaf
            ctx = _server_context(pems, cert.private_key_pem.bytes(), tmp, name)
            url = stack.enter_context(serve(ctx))
            ports[name] = port_of(url)
        yield ports, bundle


EXPECTED = {
    "good": "ok",
    "unknown-ca": "unable to get local issuer certificate",
    "intermediate-sent": "ok",
    "intermediate-in-bundle": "ok",
    "wrong-host": "Hostname mismatch, certificate is not valid for 'localhost'.",
    "expired": "certificate has expired",
}


def _check(layout, mode, servers, tmp_path, home, boot, **env):
    ports, bundle = servers
    argv = [
        sys.executable,
        "-I",
        "-c",
        CHECK,
        json.dumps([str(boot), CERTIFI_PARENT]),
        mode,
        json.dumps(ports),
        "localhost",
    ]
    proc = run_in_layout(layout, argv, clean_env(home, **env), tmp_path, bundle)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.split("RESULT ", 1)[1])


def test_fast_and_fallback_paths_match_the_slow_path(servers, tmp_path, home, render_bootstrap):
    require_namespaces()
    boot = render_bootstrap()
    slow = _check(
        "rhel7", "stock", servers, tmp_path / "slow", home, boot, SSL_CERT_FILE=RHEL_BUNDLE
    )
    fast = _check("rhel7", "ours", servers, tmp_path / "fast", home, boot)
    fallback = _check("rhel7-read-only-tmp", "ours", servers, tmp_path / "fallback", home, boot)
    assert slow == EXPECTED
    assert fast["_capath"] and fast["_capath"].startswith("/dev/shm/pyoxidizer-ssl-")
    assert fallback["_capath"] is None and fallback["_cafile"] == RHEL_BUNDLE
    for result in (fast, fallback):
        assert {k: v for k, v in result.items() if not k.startswith("_")} == EXPECTED
