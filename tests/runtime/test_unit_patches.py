"""The patches, in process and without root, on stand-in ssl and certifi modules.

Stand-ins (a subclass of the real SSLContext, a namespace for certifi) keep the test process's
own ssl untouched; every handshake is real, against the loopback server of the test CA.
"""

from __future__ import annotations

import os
import pickle
import ssl
import types

import pytest

from support.tls import port_of, verify


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
    module = types.SimpleNamespace(__name__="ssl", SSLContext=type("Ctx", (ssl.SSLContext,), {}))
    state.patch(module)
    return module


def _handshake(ctx: ssl.SSLContext, url: str) -> str:
    return verify(ctx, port_of(url))


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
    elsewhere = tmp_path / "cacert.pem"  # what certifi.where() names: another CA entirely
    corp_ca.cert_pem.write_to_path(str(elsewhere))
    certifi = types.SimpleNamespace(__name__="certifi", where=lambda: str(elsewhere))
    state.patch(certifi)
    ctx = patched.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(certifi.where())
    assert _handshake(ctx, server) == "ok"
    explicit = patched.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    explicit.load_verify_locations(cadata=corp_ca.cert_pem.bytes().decode())  # untouched
    assert _handshake(explicit, server) == "unable to get local issuer certificate"


def test_patches_apply_once_and_keep_docs(state, patched, trace):
    method = patched.SSLContext.set_default_verify_paths
    state.patch(patched)
    assert patched.SSLContext.set_default_verify_paths is method
    assert method.__doc__ == ssl.SSLContext.set_default_verify_paths.__doc__
    assert trace.step_keys().count("patches.ssl") == 1


def test_spawn_workers_carry_an_install(state):
    spawn = types.SimpleNamespace(
        __name__="multiprocessing.spawn", get_preparation_data=lambda name: {"name": name}
    )
    state.patch(spawn)
    data = spawn.get_preparation_data("worker")
    assert data["name"] == "worker"
    payload = pickle.dumps(data["pyoxidizer_ssl"])
    assert b"pyoxidizer_ssl_bootstrap" in payload and b"install" in payload


def test_a_failing_patch_is_traced_not_raised(state, trace):
    state.patch(types.SimpleNamespace(__name__="ssl"))  # no SSLContext at all
    assert trace.step_keys() == ["patches.failed"]


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
    from pyoxidizer_ssl_bootstrap import _install

    monkeypatch.setenv("PYOXIDIZER_SSL_TEST_FLAG", value)
    assert _install._flag("PYOXIDIZER_SSL_TEST_FLAG") is on


def test_vendored_certifi_handed_out_before_the_patch_is_still_certifi(
    state, patched, server, tmp_path, corp_ca
):
    """pip's requests binds pip._vendor.certifi's own where() at import: the path it cached
    (core._CACERT_PATH) counts as certifi's even though it never went through our where()."""
    elsewhere = tmp_path / "tmpabc_cacert.pem"  # what an in-memory where() extracts
    corp_ca.cert_pem.write_to_path(str(elsewhere))
    core = types.SimpleNamespace(_CACERT_PATH=None)

    def where() -> str:
        core._CACERT_PATH = str(elsewhere)
        return core._CACERT_PATH

    vendored = types.SimpleNamespace(__name__="pip._vendor.certifi", where=where, core=core)
    bound_early = vendored.where
    state.patch(vendored)
    assert vendored.where is not bound_early
    ctx = patched.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(bound_early())
    assert _handshake(ctx, server) == "ok"
    lookalike = types.SimpleNamespace(__name__="pip._vendor.certifi_not", where=where)
    state.patch(lookalike)  # not a certifi copy: left alone
    assert lookalike.where is where


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_the_env_path_itself_gets_the_decision_even_when_missing(
    state, patched, server, tmp_path, monkeypatch, trace, variable
):
    missing = str(tmp_path / "missing")
    monkeypatch.setenv(variable, missing)
    ctx = patched.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if variable == "SSL_CERT_FILE":
        ctx.load_verify_locations(cafile=missing)  # stock: FileNotFoundError
    else:
        ctx.load_verify_locations(capath=missing)
    assert _handshake(ctx, server) == "ok"  # this State's decision (system), not the env path
    assert f"${variable} ({missing!r})" in trace.step("patches.env_path")
    other = patched.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with pytest.raises(FileNotFoundError):
        other.load_verify_locations(cafile=missing + "-other")  # any other path: untouched


def test_grpc_roots_are_the_decision_as_pem(state, ca, monkeypatch, trace):
    from pyoxidizer_ssl_bootstrap import _grpc

    monkeypatch.delenv("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", raising=False)
    seen = []
    grpc = types.SimpleNamespace(
        __name__="grpc", ssl_channel_credentials=lambda *args, **kwargs: seen.append(args)
    )
    _grpc.patch(grpc, state.decision, state.note, state.note_once)
    grpc.ssl_channel_credentials()
    grpc.ssl_channel_credentials(b"explicit", private_key=b"k")
    (roots,), (explicit, *_) = seen
    # This State's decision is a distro bundle holding the test CA alone.
    assert roots.count(b"BEGIN CERTIFICATE") == 1
    assert ssl.PEM_cert_to_DER_cert(roots.decode()) == ssl.PEM_cert_to_DER_cert(
        ca.cert_pem.bytes().decode()
    )
    assert explicit == b"explicit"
    monkeypatch.setenv("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "/their/roots.pem")
    assert (
        _grpc.roots(state.decision, state.note, state.note_once) is None
        and "grpc.env_roots" in trace.step_keys()
    )


def test_switches_are_ignored_in_a_setuid_process(runtime, monkeypatch):
    from pyoxidizer_ssl_bootstrap import _install, _platform

    monkeypatch.setenv("PYOXIDIZER_SSL_DISABLE", "1")
    monkeypatch.setattr(_platform, "_secure", True)
    assert _install._flag("PYOXIDIZER_SSL_DISABLE") is False


def test_certifi_where_that_fails_gets_a_private_copy_of_the_bundle(
    state, runtime, tmp_path, monkeypatch, trace
):
    """Under an importer where certifi's own where() raises, the patched where() serves a copy
    of certifi's bundle from a private directory, named so that a later run's sweep knows it."""
    import certifi as real
    from pyoxidizer_ssl_bootstrap import _cleanup, _patches, _platform

    parent = tmp_path / "parent"
    parent.mkdir(mode=0o700)
    monkeypatch.setattr(_platform, "TEMP_PARENTS", ("$TEST_PARENT",))
    monkeypatch.setenv("TEST_PARENT", str(parent))

    def where() -> str:
        raise FileNotFoundError("no files under this importer")

    stand_in = types.SimpleNamespace(__name__="certifi", where=where)
    state.patch(stand_in)
    path = stand_in.where()
    with open(path, "rb") as f, open(real.where(), "rb") as g:
        assert f.read() == g.read()
    (name,) = os.listdir(parent)
    assert name.startswith(_cleanup.CERTIFI_PREFIX) and _cleanup.is_ours(name)
    assert "patches.certifi_copy" in trace.step_keys()
    assert state.policy.is_certifi_path(path)  # a context asked for it gets the decision
    from pyoxidizer_ssl_bootstrap import _install

    assert runtime._VENDORED_CERTIFI == _patches.VENDORED_CERTIFI  # the hook's rule is this one
    assert _install.VENDORED_CERTIFI == _patches.VENDORED_CERTIFI  # and the finder's
