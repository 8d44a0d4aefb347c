"""extra_ca files are checked at build time: each bad file fails with the file and the fix."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import trustme
from cryptography import x509 as cx
from cryptography.hazmat.primitives import serialization
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from pyoxidizer_ssl import extra_ca
from pyoxidizer_ssl.errors import UsageError, exit_code
from support.certs import self_signed
from support.env import clean_env, honour_file_modes

W = "tool.pyoxidizer-ssl"


def _ca(days_valid: float, tmp_path: Path, name: str = "ca.pem") -> Path:
    not_after = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days_valid)
    path = tmp_path / name
    path.write_bytes(self_signed("Corp Root", not_after=not_after))
    return path


def _error(path: Path) -> str:
    """The message of the user's mistake in ``path``: a UsageError (exit 2), never a bug."""
    with pytest.raises(UsageError) as err:
        extra_ca.load_extra_ca((path,), W)
    assert exit_code(err.value) == 2
    return str(err.value)


def test_good_ca_is_loaded_and_duplicates_are_dropped(tmp_path):
    ca = trustme.CA()
    path = tmp_path / "ca.pem"
    path.write_bytes(ca.cert_pem.bytes() * 2)
    cas, warnings = extra_ca.load_extra_ca((path, path), W)
    assert len(cas) == 1 and warnings == []


def test_der_is_accepted(tmp_path):
    ca = trustme.CA()
    der = cx.load_pem_x509_certificate(ca.cert_pem.bytes()).public_bytes(serialization.Encoding.DER)
    path = tmp_path / "ca.der"
    path.write_bytes(der)
    (entry,), _ = extra_ca.load_extra_ca((path,), W)
    assert entry.pem.startswith("-----BEGIN CERTIFICATE-----")


def test_missing(tmp_path):
    path = tmp_path / "nope.pem"
    assert _error(path) == (
        f"{W}: invalid extra_ca {str(path)!r}; file not found; "
        "must be a readable PEM file of CA certificates"
    )


def test_directory(tmp_path):
    assert "it is a directory" in _error(tmp_path)


def test_unreadable(tmp_path):
    path = _ca(100, tmp_path)
    path.chmod(0)
    argv = [
        sys.executable,
        "-m",
        "pyoxidizer_ssl",
        "render",
        "--out",
        str(tmp_path / "out"),
        "--config",
        str(tmp_path / "none.toml"),
        "--extra-ca",
        str(path),
    ]
    proc = subprocess.run(
        honour_file_modes(argv),
        env=clean_env(str(tmp_path)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        f"pyoxidizer-ssl render: error: --extra-ca: invalid extra_ca {str(path)!r}; cannot read "
        "it (Permission denied); must be a readable PEM file of CA certificates\n"
    )


def test_empty(tmp_path):
    path = tmp_path / "empty.pem"
    path.write_text("\n")
    assert _error(path).endswith(
        "the file is empty; must be a readable PEM file of CA certificates"
    )


def test_not_pem(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    assert _error(path) == (
        f"{W}: invalid extra_ca {str(path)!r}; not PEM and not a DER certificate; "
        "must hold '-----BEGIN CERTIFICATE-----' blocks"
    )


def test_private_key(tmp_path):
    path = tmp_path / "key.pem"
    path.write_bytes(trustme.CA().private_key_pem.bytes())
    assert "the PEM holds a private key" in _error(path)


def test_leaf(tmp_path):
    ca = trustme.CA()
    path = tmp_path / "leaf.pem"
    path.write_bytes(ca.issue_cert("example.test").cert_chain_pems[0].bytes())
    assert _error(path) == (
        f"{W}: invalid extra_ca {str(path)!r} (trustme v{trustme.__version__}); "
        "it is not a CA certificate (basicConstraints CA:FALSE or absent); "
        "pass the issuing root, not a leaf"
    )


def test_leaf_named_in_bmpstring_reads_as_text(tmp_path):
    """A BMPString (UCS-2) common name, as Windows CAs write them, is shown as its text."""
    name = cx.Name([cx.NameAttribute(NameOID.COMMON_NAME, "Ünïcode Leaf", _ASN1Type.BMPString)])
    path = tmp_path / "leaf.pem"
    path.write_bytes(self_signed(name, ca=False))
    assert _error(path) == (
        f"{W}: invalid extra_ca {str(path)!r} (Ünïcode Leaf); it is not a CA certificate "
        "(basicConstraints CA:FALSE or absent); pass the issuing root, not a leaf"
    )


def test_expired(tmp_path):
    path = _ca(-1, tmp_path)
    assert "(Corp Root); it expired on" in _error(path)
    assert _error(path).endswith("pass a current CA certificate")


def test_expiring_soon_warns(tmp_path):
    path = _ca(10, tmp_path)
    cas, warnings = extra_ca.load_extra_ca((path,), W)
    assert len(cas) == 1
    (warning,) = warnings
    assert "(Corp Root) expires on" in warning and "within 30 days; replace it" in warning


def test_too_big(tmp_path):
    path = tmp_path / "huge.pem"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    assert _error(path) == (
        f"{W}: invalid extra_ca {str(path)!r}; 52428800 bytes is over the limit of 1048576 "
        "bytes; pass only the CA certificates you need"
    )
