"""Self-signed certificates with chosen names, CA-ness and validity (trustme cannot vary those)."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(
    name: x509.Name | str,
    *,
    ca: bool = True,
    not_after: dt.datetime | None = None,
    days_before: int = 400,
) -> bytes:
    """PEM of a self-signed certificate; ``name`` is a Name or a common name."""
    if isinstance(name, str):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = not_after or dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=100)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - dt.timedelta(days=days_before))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)
