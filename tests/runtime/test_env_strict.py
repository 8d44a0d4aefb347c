"""SSL_CERT_FILE / SSL_CERT_DIR are honoured exactly, and never widened to other sources."""

from __future__ import annotations

import subprocess

import pytest

from support.env import clean_env
from support.layouts import request_in_layout
from support.steps import keys, step

pytestmark = pytest.mark.usefixtures("namespaces")


def test_missing_env_file_is_not_widened_to_the_distro_bundle(
    tmp_path, home, server, bundle_pem, render_bootstrap
):
    boot = render_bootstrap()
    result = request_in_layout(
        "rhel7", tmp_path, home, server, bundle_pem, boot, SSL_CERT_FILE="/nonexistent/ca.pem"
    )
    assert "CERTIFICATE_VERIFY_FAILED" in result["error"], result
    assert result["source"] == "env" and result["usable"] is False
    assert "No such file or directory" in step(result, "sources.env.file.unreadable")
    assert "sources.env.unusable" in keys(result)
    assert not [key for key in keys(result) if key.startswith("sources.system")]


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
    assert str(certs) in step(result, "sources.env.dir.no_certificates")


def test_disable_leaves_stock_behaviour(tmp_path, home, server, bundle_pem, render_bootstrap):
    boot = render_bootstrap()
    result = request_in_layout(
        "rhel7", tmp_path, home, server, bundle_pem, boot, PYOXIDIZER_SSL_DISABLE="1"
    )
    assert "CERTIFICATE_VERIFY_FAILED" in result["error"], result
    assert result["source"] is None
    assert keys(result) == ["start.disabled"]


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_client_reading_the_env_itself_gets_extra_ca(
    variable, tmp_path, home, server, ca, corp_ca, bundle_pem, render_bootstrap
):
    """httpx (trust_env) passes $SSL_CERT_FILE / $SSL_CERT_DIR as an explicit cafile / capath:
    it still gets the decision, which is that path plus extra_ca. Here the env names the
    corporate CA only and the server's CA is the extra one."""
    extra = tmp_path / "extra.pem"
    ca.cert_pem.write_to_path(str(extra))
    if variable == "SSL_CERT_FILE":
        value = tmp_path / "corp.pem"
        corp_ca.cert_pem.write_to_path(str(value))
    else:
        value = _certs_dir(tmp_path, corp_ca, home, hashed=True)
    boot = render_bootstrap(extra_ca=[str(extra)])
    env = {variable: str(value)}
    args = ("no-store", tmp_path / "stock", home, server, bundle_pem, boot)
    stock = request_in_layout(*args, install=False, client="httpx", **env)
    assert "CERTIFICATE_VERIFY_FAILED" in stock["error"], stock
    args = ("no-store", tmp_path / "ours", home, server, bundle_pem, boot)
    ours = request_in_layout(*args, client="httpx", **env)
    assert ours.get("status") == 200, ours
    assert ours["source"] == "env"
    assert f"${variable} ({str(value)!r})" in step(ours, "patches.env_path")


def test_missing_env_file_fails_at_the_handshake_not_at_client_creation(
    tmp_path, home, server, bundle_pem, render_bootstrap
):
    """Stock httpx raises FileNotFoundError building its client; OpenSSL's own reading of a
    missing SSL_CERT_FILE raises nothing and fails the handshake. With install() httpx gets
    the strict env decision: the same verification failure, at the same place as every client."""
    boot = render_bootstrap()
    missing = "/nonexistent/ca.pem"
    stock = request_in_layout(
        "rhel7",
        tmp_path / "stock",
        home,
        server,
        bundle_pem,
        boot,
        install=False,
        client="httpx",
        SSL_CERT_FILE=missing,
    )
    assert stock["error"].startswith("FileNotFoundError"), stock
    ours = request_in_layout(
        "rhel7",
        tmp_path / "ours",
        home,
        server,
        bundle_pem,
        boot,
        client="httpx",
        SSL_CERT_FILE=missing,
    )
    assert "CERTIFICATE_VERIFY_FAILED" in ours["error"], ours
    assert ours["source"] == "env" and ours["usable"] is False
