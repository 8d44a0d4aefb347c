"""The sources, in process and without root: known store paths pointed at tmp_path."""

from __future__ import annotations

import os
import sys

import pytest


@pytest.fixture
def host(tmp_path):
    """Where the test's host file system starts: every store path is looked for under it."""
    return tmp_path / "host"


@pytest.fixture
def sources(runtime, monkeypatch, host):
    """``_sources`` with OpenSSL's defaults and every known store path under ``host``."""
    from pyoxidizer_ssl_bootstrap import _platform, _sources

    root = host
    paths = ("/etc/ssl/cert.pem", "/etc/ssl/certs")
    fake = ("SSL_CERT_FILE", str(root) + paths[0], "SSL_CERT_DIR", str(root) + paths[1])
    monkeypatch.setattr("_ssl.get_default_verify_paths", lambda: fake)
    monkeypatch.setattr(_platform, "CA_FILES", tuple(str(root) + p for p in _platform.CA_FILES))
    monkeypatch.setattr(_platform, "CA_DIRS", tuple(str(root) + p for p in _platform.CA_DIRS))
    monkeypatch.setattr(_platform, "NATIVE_STORE", False)
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    return _sources


def _put(root, path, data):
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return str(target)


def test_system_takes_the_first_known_bundle(sources, host, trace, ca_pem_bytes):
    path = _put(host, "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", ca_pem_bytes)
    _put(host, "/etc/ssl/ca-bundle.pem", ca_pem_bytes)  # later in the list
    decision = sources.decide(("env", "system", "certifi"), (None, None), trace)
    assert (decision.source, decision.origin, decision.usable) == ("system", path, True)
    assert trace.step_keys().count("decision.made") == 1


def test_system_skips_garbage_then_certifi_when_no_store(sources, host, trace):
    _put(host, "/etc/ssl/cert.pem", b"not a bundle\n")
    decision = sources.decide(("system", "certifi"), (None, None), trace)
    assert decision.source == "certifi" and decision.certifi
    assert "/etc/ssl/cert.pem" in trace.step("sources.system.file.no_certificates")
    assert "sources.system.none" in trace.step_keys()


def test_system_uses_a_hashed_directory(sources, host, trace, ca_pem_bytes):
    from pyoxidizer_ssl import x509

    ((_, der),) = x509.pem_blocks(ca_pem_bytes)
    _put(host, f"/var/lib/ca-certificates/openssl/{x509.subject_hash(der)}.0", ca_pem_bytes)
    decision = sources.decide(("system",), (None, None), trace)
    assert decision.dirs == [str(host / "var/lib/ca-certificates/openssl")]


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (("", None), "sources.env.file.unreadable"),
        (("/dev/zero", None), "sources.env.file.not_regular"),
        ((None, "/nonexistent"), "sources.env.dir.unreadable"),
    ],
)
def test_env_is_strict(sources, host, trace, ca_pem_bytes, setting, expected):
    """ "" counts as set (as for OpenSSL); nothing usable never widens to the system store."""
    _put(host, "/etc/ssl/cert.pem", ca_pem_bytes)
    decision = sources.decide(("env", "system", "certifi"), setting, trace)
    assert (decision.source, decision.usable) == ("env", False)
    assert {expected, "sources.env.unusable"} <= set(trace.step_keys())
    assert not [key for key in trace.step_keys() if key.startswith("sources.system")]


def test_env_fault_of_any_kind_never_widens(sources, trace, monkeypatch, tmp_path, ca_pem_bytes):
    bundle = _put(tmp_path, "/env.pem", ca_pem_bytes)

    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(sources, "read_bundle", out_of_memory)
    decision = sources.decide(("env", "system", "certifi"), (bundle, None), trace)
    assert (decision.source, decision.usable) == ("env", False)
    assert "MemoryError" in trace.step("sources.env.failed")
    assert trace.step_keys()[-1] == "sources.env.failed"  # no other source tried


def test_read_env_counts_empty_as_set_and_skips_our_exports(sources, trace, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", "")
    monkeypatch.setenv("SSL_CERT_DIR", "/ours")
    assert sources.read_env({"SSL_CERT_DIR": "/ours"}, trace) == ("", None)


def test_read_env_ignores_ssl_cert_in_a_setuid_process(sources, trace, monkeypatch):
    from pyoxidizer_ssl_bootstrap import _platform

    monkeypatch.setenv("SSL_CERT_FILE", "/caller/chose/this.pem")
    monkeypatch.setattr(_platform, "_secure", None)
    monkeypatch.setattr(_platform, "_at_secure", lambda: True)  # the kernel's AT_SECURE
    assert sources.read_env({}, trace) == (None, None)
    assert trace.step_keys() == ["sources.env.setuid_ignored"]


def test_ids_changed_for_a_while_are_not_a_privileged_exec(sources, trace, monkeypatch):
    """A daemon's temporary seteuid at the first call: AT_SECURE (an exec fact) decides."""
    from pyoxidizer_ssl_bootstrap import _platform

    monkeypatch.setenv("SSL_CERT_FILE", "/operator/chose/this.pem")
    monkeypatch.setattr(_platform, "_secure", None)
    monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)
    assert sources.read_env({}, trace) == ("/operator/chose/this.pem", None)


def test_every_trust_name_has_a_source(sources):
    from pyoxidizer_ssl.config import TRUST_SOURCES

    assert set(sources.SOURCES) == set(TRUST_SOURCES)


def test_a_store_another_user_could_have_put_there_is_skipped(sources, host, trace, ca_pem_bytes):
    path = _put(host, "/usr/local/etc/ssl/cert.pem", ca_pem_bytes)
    os.chmod(host / "usr/local", 0o777)  # e.g. a /usr/local another user owns or can write
    decision = sources.decide(("system", "certifi"), (None, None), trace)
    assert decision.source == "certifi"
    changeable = [m for k, m in trace.steps if k == "sources.system.changeable"]
    assert any(repr(path) in m for m in changeable), changeable


def test_a_certifi_in_a_shared_directory_is_not_used(sources, trace, tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    (shared / "certifi").mkdir(parents=True)
    (shared / "certifi" / "__init__.py").write_text("")
    (shared / "certifi" / "cacert.pem").write_text("planted\n")
    shared.chmod(0o777)
    monkeypatch.syspath_prepend(str(shared))
    monkeypatch.delitem(sys.modules, "certifi", raising=False)
    monkeypatch.delitem(sys.modules, "certifi.core", raising=False)
    assert sources.certifi_bundle(trace) is None
    assert "sources.certifi.changeable" in trace.step_keys()


def test_secure_exec_is_read_from_the_kernel(sources):
    from pyoxidizer_ssl_bootstrap import _platform

    assert _platform._at_secure() is False  # this test process was not given privileges
    with open("/proc/self/auxv", "rb") as f:
        assert len(f.read()) > 16  # the vector it read is really there


def test_a_link_another_user_owns_is_skipped_even_to_a_good_store(
    sources, host, trace, ca_pem_bytes
):
    """Its owner could re-point it between the check and the read."""
    if os.geteuid() != 0:
        pytest.skip("giving a link to another user needs root")
    target = _put(host, "/etc/pki/ca-trust/source/good.pem", ca_pem_bytes)
    link = host / "etc/ssl/ca-bundle.pem"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    os.lchown(link, 65534, 65534)
    decision = sources.decide(("system", "certifi"), (None, None), trace)
    assert decision.source == "certifi"
    assert repr(str(link)) in trace.step("sources.system.changeable")


def test_an_env_path_others_could_change_is_used_as_set_and_said(
    sources, trace, tmp_path, ca_pem_bytes
):
    """Round 3: SSL_CERT_FILE/SSL_CERT_DIR through another user's writable directory are the
    operator's choice (stock OpenSSL reads them too): honoured, never widened, and named."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "ca.pem").write_bytes(ca_pem_bytes)
    shared.chmod(0o777)
    decision = sources.decide(("env", "system"), (str(shared / "ca.pem"), None), trace)
    assert decision.source == "env" and decision.usable
    assert repr(str(shared / "ca.pem")) in trace.step("sources.env.changeable")
    safe = tmp_path / "safe.pem"
    safe.write_bytes(ca_pem_bytes)
    before = len(trace.steps)
    sources.decide(("env", "system"), (str(safe), None), trace)
    assert "sources.env.changeable" not in trace.step_keys()[before:]


@pytest.mark.parametrize(
    "name",
    [
        "5ad8a5d6.0",
        "5ad8a5d6.12",
        "5AD8A5D6.0",
        "5ad8a5d6.",
        "5ad8a5d6",
        "5ad8a5d6.0a",
        "5ad8a5d6.٣",
        "xad8a5d6.0",
        "5ad8a5d60",
        "cacert.pem",
        "",
        "5ad8a5d6.0.pem",
    ],
)
def test_the_hash_name_test_is_x509s(sources, name):
    """_sources repeats _x509's name test (so that a decision parsing nothing never imports
    _x509): the two must agree on every name, odd ones included."""
    from pyoxidizer_ssl import x509

    assert sources.is_hash_name(name) == x509.is_hash_name(name)


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n" * 3,
        b"-----BEGIN TRUSTED CERTIFICATE-----\n-----BEGIN X509 CERTIFICATE-----\n",
        b"-----BEGIN PRIVATE KEY-----\n-----BEGIN CERTIFICATE REQUEST-----\n",
        b"-----BEGIN NEW CERTIFICATE-----\n-----BEGIN CERTIFICATE----\n",
        b"-----BEGIN CERTIFICATE-----\n-----BEGIN TRUSTED CERTIFICATE-----\n",  # 2 passes: 3
    ],
)
def test_a_bundle_holds_certificates_where_x509_counts_some(sources, text, ca_pem_bytes):
    """_sources repeats _x509's certificate labels: it finds one exactly where _x509 counts any."""
    from pyoxidizer_ssl import x509

    for data in (text, text + ca_pem_bytes):
        assert sources.holds_certificates(data) == (x509.count_certificate_markers(data) > 0)
