"""The patches, in process and without root, on stand-in ssl and certifi modules.

Stand-ins (a subclass of the real SSLContext, a namespace for certifi) keep the test process's
own ssl untouched; every handshake is real, against the loopback server of the test CA.
"""

from __future__ import annotations

import pickle
import socket
import ssl
import types

import pytest


@pytest.fixture
def state(runtime, monkeypatch, tmp_path, ca, trace):
    """A State whose only trust is a distro bundle where stock OpenSSL does not look."""
    from pyoxidizer_ssl_bootstrap import _platform, _state

    bundle = tmp_path / "distro" / "tls-ca-bundle.pem"
    bundle.parent.mkdir()
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setattr(_platform, "CA_FILES", (str(bundle),))
    monkeypatch.setattr(_platform, "CA_DIRS", ())
    nothing = str(tmp_path / "nothing")
    monkeypatch.setattr("_ssl.get_default_verify_paths", lambda: ("", nothing, "", nothing))
    return _state.State(trace, ("system",))


@pytest.fixture
def patched(state):
    """A stand-in ssl module with its own SSLContext subclass, patched."""
    from pyoxidizer_ssl_bootstrap import _patches

    module = types.SimpleNamespace(__name__="ssl", SSLContext=type("Ctx", (ssl.SSLContext,), {}))
    _patches.patch(state, module)
    return module


def _handshake(ctx: ssl.SSLContext, url: str) -> str:
    port = int(url.rsplit(":", 1)[1].strip("/"))
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as sock,
            ctx.wrap_socket(sock, server_hostname="localhost"),
        ):
            return "ok"
    except ssl.SSLCertVerificationError as exc:
        return exc.verify_message


def _client(cls: type[ssl.SSLContext]) -> ssl.SSLContext:
    ctx = cls(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_default_certs()
    return ctx


def test_default_trust_follows_the_decision(patched, server, monkeypatch):
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert _handshake(_client(patched.SSLContext), server) == "ok"
    assert _handshake(_client(ssl.SSLContext), server) != "ok"  # unpatched: stock trust


def test_certifi_bundle_is_replaced_by_the_decision(state, patched, server, tmp_path, corp_ca):
    from pyoxidizer_ssl_bootstrap import _patches

    elsewhere = tmp_path / "cacert.pem"  # what certifi.where() names: another CA entirely
    corp_ca.cert_pem.write_to_path(str(elsewhere))
    certifi = types.SimpleNamespace(__name__="certifi", where=lambda: str(elsewhere))
    _patches.patch(state, certifi)
    ctx = patched.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(certifi.where())
    assert _handshake(ctx, server) == "ok"
    explicit = patched.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    explicit.load_verify_locations(cadata=corp_ca.cert_pem.bytes().decode())  # untouched
    assert _handshake(explicit, server) == "unable to get local issuer certificate"


def test_patches_apply_once_and_keep_docs(state, patched, trace):
    from pyoxidizer_ssl_bootstrap import _patches

    method = patched.SSLContext.set_default_verify_paths
    _patches.patch(state, patched)
    assert patched.SSLContext.set_default_verify_paths is method
    assert method.__doc__ == ssl.SSLContext.set_default_verify_paths.__doc__
    assert sum("ssl patched" in step for step in trace) == 1


def test_spawn_workers_carry_an_install(state):
    from pyoxidizer_ssl_bootstrap import _patches

    spawn = types.SimpleNamespace(
        __name__="multiprocessing.spawn", get_preparation_data=lambda name: {"name": name}
    )
    _patches.patch(state, spawn)
    data = spawn.get_preparation_data("worker")
    assert data["name"] == "worker"
    payload = pickle.dumps(data["pyoxidizer_ssl"])
    assert b"pyoxidizer_ssl_bootstrap" in payload and b"install" in payload


def test_a_failing_patch_is_traced_not_raised(state, trace):
    from pyoxidizer_ssl_bootstrap import _patches

    _patches.patch(state, types.SimpleNamespace(__name__="ssl"))  # no SSLContext at all
    assert trace.has("patching") and trace.has("it keeps its stock behaviour")


@pytest.mark.parametrize(
    ("value", "on"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        (" On ", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("", False),
        ("2", False),
        ("enabled", False),
    ],
)
def test_flags_mean_on_only_for_1_true_yes_on(runtime, monkeypatch, value, on):
    monkeypatch.setenv("PYOXIDIZER_SSL_TEST_FLAG", value)
    assert runtime._flag("PYOXIDIZER_SSL_TEST_FLAG") is on
