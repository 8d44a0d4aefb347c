"""SSL_CERT_FILE / SSL_CERT_DIR are honoured exactly, and never widened to other sources."""

from __future__ import annotations

import subprocess

import pytest

from support.env import clean_env
from support.layouts import request_in_layout, require_namespaces


@pytest.fixture(autouse=True)
def _namespaces() -> None:
    require_namespaces()


def test_missing_env_file_is_not_widened_to_the_distro_bundle(
    tmp_path, home, server, bundle_pem, render_bootstrap
):
    boot = render_bootstrap()
    result = request_in_layout(
        "rhel7", tmp_path, home, server, bundle_pem, boot, SSL_CERT_FILE="/nonexistent/ca.pem"
    )
    assert "CERTIFICATE_VERIFY_FAILED" in result["error"], result
    assert result["source"] == "env" and result["usable"] is False
    trace = "\n".join(result["trace"])
    assert "'/nonexistent/ca.pem': No such file or directory" in trace
    assert "never widened" in trace


def test_env_file_only_excludes_openssl_default_dir(
    tmp_path, home, server, bundle_pem, ca, corp_ca, render_bootstrap
):
    # Debian: the default hashed dir holds the test CA; stock OpenSSL would still use it when only
    # SSL_CERT_FILE is set. Strict env means the file alone.
    other = tmp_path / "other.pem"
    corp_ca.cert_pem.write_to_path(str(other))
    boot = render_bootstrap()
    result = request_in_layout(
        "debian", tmp_path / "ns", home, server, bundle_pem, boot, SSL_CERT_FILE=str(other)
    )
    assert "CERTIFICATE_VERIFY_FAILED" in result["error"], result
    stock = request_in_layout(
        "debian",
        tmp_path / "ns2",
        home,
        server,
        bundle_pem,
        boot,
        install=False,
        SSL_CERT_FILE=str(other),
    )
    assert stock.get("status") == 200, stock  # what strictness changes


def _certs_dir(tmp_path, ca, home, hashed):
    """A directory holding the test CA, hashed by the real `openssl rehash` or not."""
    certs = tmp_path / "certs"
    certs.mkdir()
    ca.cert_pem.write_to_path(str(certs / "test-ca.pem"))
    if hashed:
        subprocess.run(["openssl", "rehash", str(certs)], env=clean_env(home), check=True)
    return certs


@pytest.mark.parametrize(
    ("variable", "client"),
    [
        ("SSL_CERT_FILE", "urllib"),
        ("SSL_CERT_FILE", "requests"),
        ("SSL_CERT_FILE", "httpx"),
        ("SSL_CERT_DIR", "requests"),
    ],
)
def test_env_setting_is_used(
    variable, client, tmp_path, home, server, ca, bundle_pem, render_bootstrap
):
    """No store at all: only the env file or hashed directory holds the CA."""
    if variable == "SSL_CERT_FILE":
        where = tmp_path / "mine.pem"
        ca.cert_pem.write_to_path(str(where))
    else:
        where = _certs_dir(tmp_path, ca, home, hashed=True)
    result = request_in_layout(
        "no-store",
        tmp_path / "ns",
        home,
        server,
        bundle_pem,
        render_bootstrap(),
        client=client,
        **{variable: str(where)},
    )
    assert result.get("status") == 200, result
    loaded = result["cafile"] if variable == "SSL_CERT_FILE" else result["capath"]
    assert result["source"] == "env" and str(where) in loaded


def test_unhashed_env_dir_is_unusable_and_strict(
    tmp_path, home, server, ca, bundle_pem, render_bootstrap
):
    certs = _certs_dir(tmp_path, ca, home, hashed=False)  # present but not hashed
    boot = render_bootstrap()
    result = request_in_layout(
        "rhel7", tmp_path / "ns", home, server, bundle_pem, boot, SSL_CERT_DIR=str(certs)
    )
    assert "CERTIFICATE_VERIFY_FAILED" in result["error"], result
    assert "no XXXXXXXX.N hashed certificates" in "\n".join(result["trace"])


def test_disable_leaves_stock_behaviour(tmp_path, home, server, bundle_pem, render_bootstrap):
    boot = render_bootstrap()
    result = request_in_layout(
        "rhel7", tmp_path, home, server, bundle_pem, boot, PYOXIDIZER_SSL_DISABLE="1"
    )
    assert "CERTIFICATE_VERIFY_FAILED" in result["error"], result
    assert result["source"] is None
    assert "PYOXIDIZER_SSL_DISABLE" in result["trace"][0]
