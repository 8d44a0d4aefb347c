"""What the build checks of a CA certificate: display name, CA-ness, validity.

Build-time only (extra_ca validation); the binary needs just the subject hash, which lives in
x509.py with the DER reader both use. Names are decoded by their ASN.1 string type with the same
rule the hash uses (x509.string_text), so a label reads as OpenSSL reads the name.

Why not ``cryptography.x509`` here: the build must accept every CA the binary's OpenSSL will
trust, and cryptography is stricter. It refuses a T61String that is not UTF-8 (OpenSSL reads it
as Latin-1), and warns that it will refuse a serial number of 0 (GoDaddy and Starfield Root G2,
among certifi's roots, have one), so pinning such a root would one day fail the build. The
reader here stays small, shares the runtime's DER code and is fuzzed (tests/plugin/test_fuzz.py).
"""

from __future__ import annotations

import binascii
from typing import NamedTuple

from . import x509

_BOOLEAN = 0x01
_OCTET_STRING = 0x04
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18
_OID_BASIC_CONSTRAINTS = bytes.fromhex("551d13")
_OID_COMMON_NAME = bytes.fromhex("550403")
_OID_ORGANIZATION = bytes.fromhex("55040a")


class CertInfo(NamedTuple):
    """What the build plugin checks of a CA certificate."""

    subject_hash: str
    subject: str
    is_ca: bool
    not_before: tuple[int, int, int, int, int, int]
    not_after: tuple[int, int, int, int, int, int]


def der_to_pem(der: bytes) -> bytes:
    """Wrap DER bytes as a PEM CERTIFICATE block."""
    b64 = binascii.b2a_base64(der, newline=False)
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


def _time(der: bytes, tag: int, start: int, end: int) -> tuple[int, int, int, int, int, int]:
    text = der[start:end].decode("ascii")
    if tag == _UTC_TIME:
        year = int(text[:2])
        text = str(year + (2000 if year < 50 else 1900)) + text[2:]
    elif tag != _GENERALIZED_TIME:
        raise ValueError("bad validity time")
    if not text.endswith("Z") or len(text) != 15:
        raise ValueError("validity time is not in UTC seconds form")
    return (
        int(text[0:4]),
        int(text[4:6]),
        int(text[6:8]),
        int(text[8:10]),
        int(text[10:12]),
        int(text[12:14]),
    )


def _name_text(der: bytes, start: int, end: int) -> str:
    """The common name, else the organisation, decoded by its string type as OpenSSL does."""
    found = {}
    for _, _, rstart, rend in x509.der_children(der, start, end):
        for _, _, astart, aend in x509.der_children(der, rstart, rend):
            parts = x509.der_children(der, astart, aend)
            oid = der[parts[0][2] : parts[0][3]]
            if oid in (_OID_COMMON_NAME, _OID_ORGANIZATION) and oid not in found:
                vtag, _, vstart, vend = parts[1]
                raw = der[vstart:vend]
                text = x509.string_text(vtag, raw)  # BMPString, T61String, ... as OpenSSL reads
                found[oid] = raw.decode("utf-8", "replace") if text is None else text
    label = found.get(_OID_COMMON_NAME) or found.get(_OID_ORGANIZATION)
    return label if label else "(no common name)"


def _is_ca(der: bytes, fields: list[tuple[int, int, int, int]]) -> bool:
    issuer, subject = fields[2], fields[4]
    for tag, _, start, end in fields[6:]:
        if tag != 0xA3:  # explicit [3] extensions
            continue
        (_, _, seq_start, seq_end) = x509.der_children(der, start, end)[0]
        for _, _, estart, eend in x509.der_children(der, seq_start, seq_end):
            parts = x509.der_children(der, estart, eend)
            if der[parts[0][2] : parts[0][3]] != _OID_BASIC_CONSTRAINTS:
                continue
            value = parts[-1]
            if value[0] != _OCTET_STRING:
                raise ValueError("bad basicConstraints")
            _, bstart, bend = x509.der_element(der, value[2])
            inner = x509.der_children(der, bstart, bend)
            return bool(inner) and inner[0][0] == _BOOLEAN and der[inner[0][2]] != 0
    # A v1 certificate has no extensions: OpenSSL treats it as a CA only when self-issued.
    return der[issuer[1] : issuer[3]] == der[subject[1] : subject[3]]


def cert_info(der: bytes) -> CertInfo:
    """Return the subject hash, a display name, CA-ness and validity of a DER certificate.

    Any malformed input raises ValueError (UnicodeDecodeError is one).
    """
    try:
        return _cert_info(der)
    except IndexError:
        raise ValueError("malformed certificate") from None


def _cert_info(der: bytes) -> CertInfo:
    fields = x509.tbs_fields(der)
    validity, subject = fields[3], fields[4]
    times = x509.der_children(der, validity[2], validity[3])
    if len(times) != 2:
        raise ValueError("bad validity")
    return CertInfo(
        subject_hash=x509.name_hash(der, subject[2], subject[3]),
        subject=_name_text(der, subject[2], subject[3]),
        is_ca=_is_ca(der, fields),
        not_before=_time(der, times[0][0], times[0][2], times[0][3]),
        not_after=_time(der, times[1][0], times[1][2], times[1][3]),
    )
