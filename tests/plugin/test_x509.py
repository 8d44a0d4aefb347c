"""Our subject hash equals ``openssl x509 -subject_hash`` for every certifi root, every root of
this host's system bundle, and odd names made here (each string type OpenSSL canonicalises,
multi-valued RDNs, empty and blank values, long values, a type it copies as it is)."""

from __future__ import annotations

import base64
import ssl
import subprocess
import sys
from pathlib import Path

import certifi
import pytest
from cryptography import x509 as cx
from cryptography.x509.oid import NameOID

from pyoxidizer_ssl import certinfo, x509
from support.certs import self_signed
from support.env import clean_env, need


def _openssl_hashes(pems: list[bytes]) -> list[str]:
    """One openssl call per certificate is slow; the real CLI still computes each one."""
    return [
        subprocess.run(
            ["openssl", "x509", "-noout", "-subject_hash"],
            env=clean_env("/nonexistent"),
            input=pem,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
        for pem in pems
    ]


def test_every_certifi_root_hashes_like_openssl():
    blocks = x509.pem_blocks(Path(certifi.where()).read_bytes())
    assert len(blocks) > 100
    ours = [x509.subject_hash(der) for _, der in blocks]
    assert ours == _openssl_hashes([pem for pem, _ in blocks])
    assert all(certinfo.cert_info(der).is_ca for _, der in blocks)


# Where this host's distro keeps its bundle (the first that exists is checked).
SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
    ssl.get_default_verify_paths().openssl_cafile,
)


def test_every_system_root_hashes_like_openssl():
    found = [p for p in SYSTEM_BUNDLES if Path(p).is_file()]
    need(bool(found), "no system CA bundle on this host")
    blocks = x509.pem_blocks(Path(found[0]).read_bytes())
    assert blocks, found[0]
    ours = [x509.subject_hash(der) for _, der in blocks]
    assert ours == _openssl_hashes([pem for pem, _ in blocks])


def _cert(name: cx.Name, ca: bool = True) -> bytes:
    return self_signed(name, ca=ca)


ODD_NAMES = {
    "upper and spaces": cx.Name([cx.NameAttribute(NameOID.COMMON_NAME, "  Big   CORP\tRoot  ")]),
    "multi-valued rdn": cx.Name(
        [
            cx.RelativeDistinguishedName(
                [
                    cx.NameAttribute(NameOID.ORGANIZATION_NAME, "Zeta"),
                    cx.NameAttribute(NameOID.COMMON_NAME, "Alpha"),
                ]
            )
        ]
    ),
    "bmpstring": cx.Name(
        [cx.NameAttribute(NameOID.COMMON_NAME, "Ünïcode Root", cx.name._ASN1Type.BMPString)]
    ),
    "printable and ia5": cx.Name(
        [
            cx.NameAttribute(NameOID.COUNTRY_NAME, "DE", cx.name._ASN1Type.PrintableString),
            cx.NameAttribute(NameOID.EMAIL_ADDRESS, "Root@Example.COM"),
        ]
    ),
    "utf8 non-ascii": cx.Name(
        [
            cx.NameAttribute(
                NameOID.COMMON_NAME,
                "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03cc  \u03a1\u0399\u0396\u0391",
            )
        ]
    ),
    "empty subject": cx.Name([]),
}


@pytest.mark.parametrize("label", sorted(ODD_NAMES))
def test_odd_names_hash_like_openssl(label):
    pem = _cert(ODD_NAMES[label])
    ((_, der),) = x509.pem_blocks(pem)
    assert [x509.subject_hash(der)] == _openssl_hashes([pem])


# Names encoded here byte by byte (cryptography cannot write every string type, nor an unsorted
# or empty RDN value): each RDN is a list of (OID, ASN.1 string tag, raw value bytes).
CN = bytes.fromhex("0603550403")
O = bytes.fromhex("060355040a")  # noqa: E741
C = bytes.fromhex("0603550406")
EMAIL = bytes.fromhex("06092a864886f70d010901")
SERIAL = bytes.fromhex("0603550405")
UTF8, PRINTABLE, T61, IA5, UNIVERSAL, BMP, NUMERIC = (
    0x0C, 0x13, 0x14, 0x16, 0x1C, 0x1E, 0x12,
)  # fmt: skip

RAW_NAMES = {
    "universalstring": [
        [(CN, UNIVERSAL, "  \u00dcn\u00efcode   ROOT \U0001f512".encode("utf-32-be"))]
    ],
    "bmpstring with a euro": [[(CN, BMP, "Euro \u20ac  ROOT".encode("utf-16-be"))]],
    # Every byte below 0x80, yet not ASCII text: a two- or four-byte type is always decoded.
    "bmpstring, ascii only": [[(CN, BMP, "Plain  ROOT".encode("utf-16-be"))]],
    "universalstring, ascii only": [[(O, UNIVERSAL, "Plain Org".encode("utf-32-be"))]],
    "t61string latin-1": [[(CN, T61, "Z\u00fcrich\t\tROOT  CA".encode("latin-1"))]],
    # (VisibleString, though canonicalised, is not a type OpenSSL decodes in a Name at all.)
    "ia5string": [
        [(CN, IA5, b"Ia5  CA")],
        [(EMAIL, IA5, b" Root@EXAMPLE.com ")],
    ],
    "multi-valued, unsorted": [
        [(O, UTF8, b"Zeta Org"), (CN, PRINTABLE, b"ALPHA"), (C, PRINTABLE, b"DE")],
        [(CN, UTF8, b"second")],
    ],
    "multi-valued, one a prefix of another": [[(CN, UTF8, b"ab"), (CN, UTF8, b"ab c")]],
    "empty values": [[(CN, UTF8, b"")], [(O, PRINTABLE, b"")]],
    "blank values": [[(CN, UTF8, b" \t\r\n\x0b\x0c ")], [(O, PRINTABLE, b"  x  ")]],
    "long value (long-form lengths)": [
        [(CN, UTF8, b"Long  " * 40)],
        [(O, BMP, ("\u00c4" * 90).encode("utf-16-be"))],
    ],
    "utf8 non-ascii upper case kept": [[(CN, UTF8, "\u00c4RGER  \u00d6L \u0130".encode())]],
    "numericstring copied as it is": [[(SERIAL, NUMERIC, b" 12  34 ")], [(CN, UTF8, b"n")]],
}


def _der(tag: int, content: bytes) -> bytes:
    return x509._encode(tag, content)


def _with_subject(rdns: list[list[tuple[bytes, int, bytes]]]) -> bytes:
    """PEM of a real certificate whose subject is replaced by ``rdns`` (its signature no longer
    matches, which ``-subject_hash`` does not check)."""
    ((_, der),) = x509.pem_blocks(_cert(ODD_NAMES["upper and spaces"]))
    name = _der(
        0x30,
        b"".join(
            _der(0x31, b"".join(_der(0x30, oid + _der(tag, raw)) for oid, tag, raw in rdn))
            for rdn in rdns
        ),
    )
    _, start, end = x509.der_element(der, 0)
    (_, _, tbs_start, tbs_end), *rest = x509.der_children(der, start, end)
    _, subject_at, _, subject_end = x509.tbs_fields(der)[4]
    tbs = _der(0x30, der[tbs_start:subject_at] + name + der[subject_end:tbs_end])
    cert = _der(0x30, tbs + der[rest[0][1] : end])
    body = base64.encodebytes(cert).replace(b"\n", b"")
    lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return b"-----BEGIN CERTIFICATE-----\n" + lines + b"\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize("label", sorted(RAW_NAMES))
def test_names_made_byte_by_byte_hash_like_openssl(label):
    pem = _with_subject(RAW_NAMES[label])
    ((_, der),) = x509.pem_blocks(pem)
    assert [x509.subject_hash(der)] == _openssl_hashes([pem])


def test_cert_info_tells_leaf_from_ca():
    leaf = _cert(cx.Name([cx.NameAttribute(NameOID.COMMON_NAME, "leaf")]), ca=False)
    ((_, der),) = x509.pem_blocks(leaf)
    info = certinfo.cert_info(der)
    assert not info.is_ca and info.subject == "leaf"


ASN1 = cx.name._ASN1Type
NAME = "Ünïcode Root"
WIDE = "Ünïcode \U0001d54c Root"  # a character past the BMP: four bytes in UCS-4


def _latin1_t61(common_name: str) -> bytes:
    """A CA whose common name is a T61String in Latin-1, as old CAs wrote it (and OpenSSL reads
    it). cryptography writes T61String as UTF-8, so the certificate is built with an ASCII name
    of the same length and the Latin-1 bytes then put in its place, in subject and issuer alike:
    the DER stays well-formed; the signature no longer matches, which nothing here reads."""
    raw = common_name.encode("latin-1")
    stand_in = "x" * len(raw)
    name = cx.Name([cx.NameAttribute(NameOID.COMMON_NAME, stand_in, ASN1.T61String)])
    ((_, der),) = x509.pem_blocks(self_signed(name))
    marker = bytes([0x14, len(raw)]) + stand_in.encode()
    assert der.count(marker) == 2  # issuer and subject
    return certinfo.der_to_pem(der.replace(marker, bytes([0x14, len(raw)]) + raw))


def _named(common_name: str, string_type: ASN1) -> bytes:
    """PEM of a CA whose common name has ``string_type``."""
    if string_type is ASN1.T61String:
        return _latin1_t61(common_name)
    return self_signed(cx.Name([cx.NameAttribute(NameOID.COMMON_NAME, common_name, string_type)]))


NON_UTF8 = [
    (ASN1.BMPString, NAME),  # UCS-2
    (ASN1.UniversalString, WIDE),  # UCS-4
    (ASN1.T61String, NAME),  # Latin-1, as OpenSSL reads it
]


def _openssl_common_name(pem: bytes) -> str:
    out = subprocess.run(
        ["openssl", "x509", "-noout", "-subject", "-nameopt", "utf8,-esc_msb,sep_multiline,sname"],
        env=clean_env("/nonexistent"),
        input=pem,
        capture_output=True,
        check=True,
    ).stdout.decode()
    (line,) = [line.strip() for line in out.splitlines() if line.strip().startswith("CN=")]
    return line[len("CN=") :]


@pytest.mark.parametrize(
    ("string_type", "common_name"), NON_UTF8, ids=["bmpstring", "universalstring", "t61string"]
)
def test_non_utf8_names_read_as_openssl_reads_them(string_type, common_name):
    """The name in extra_ca messages is the text, not UTF-8 guessed from UCS-2 bytes."""
    pem = _named(common_name, string_type)
    ((_, der),) = x509.pem_blocks(pem)
    info = certinfo.cert_info(der)
    assert info.subject == common_name == _openssl_common_name(pem)
    assert [info.subject_hash] == _openssl_hashes([pem])
    assert info.is_ca


def test_pem_blocks_skips_other_blocks_and_keeps_trusted_certificates():
    """A real TRUSTED CERTIFICATE (openssl -trustout: the certificate, then its X509_CERT_AUX
    trailer with the trust settings) hashes like the plain certificate, as OpenSSL does."""
    pem = _cert(ODD_NAMES["upper and spaces"])
    trusted = subprocess.run(
        ["openssl", "x509", "-addtrust", "serverAuth", "-setalias", "corp", "-trustout"],
        input=pem,
        env=clean_env("/nonexistent"),
        capture_output=True,
        check=True,
    ).stdout
    assert trusted.startswith(b"-----BEGIN TRUSTED CERTIFICATE-----")
    text = b"junk\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" + pem + trusted
    (plain_pem, plain_der), (trusted_pem, trusted_der) = x509.pem_blocks(text)
    assert (plain_pem.strip(), trusted_pem.strip()) == (pem.strip(), trusted.strip())
    assert trusted_der.startswith(plain_der) and len(trusted_der) > len(plain_der)  # the trailer
    assert x509.count_certificate_markers(text) == 2
    assert x509.subject_hash(trusted_der) == x509.subject_hash(plain_der)
    assert _openssl_hashes([trusted]) == [x509.subject_hash(trusted_der)]


def test_pem_texts_cut_certifi_as_pem_blocks_does_without_decoding():
    """The runtime cuts certifi (once its digest matched the build's) with pem_texts: the same
    blocks, byte for byte, as pem_blocks, whose DER the build hashed."""
    data = Path(certifi.where()).read_bytes()
    assert x509.pem_texts(data) == [pem for pem, _ in x509.pem_blocks(data)]
    text = b"junk\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" + data[:5000]
    assert x509.pem_texts(text) == [pem for pem, _ in x509.pem_blocks(text)]


@pytest.mark.parametrize("der", [b"", b"\x30", b"\x30\x84\xff\xff\xff\xff", b"\x02\x01\x00"])
def test_malformed_der_is_a_value_error(der):
    with pytest.raises(ValueError):
        x509.subject_hash(der)


@pytest.mark.parametrize("missing", [(), ("_sha1",), ("_sha1", "_hashlib")])
def test_hashes_without_cpythons_own_modules(missing, monkeypatch):
    """A build without _sha1 (or without _hashlib too) hashes alike through the next module."""
    pem = _cert(ODD_NAMES["upper and spaces"])
    ((_, der),) = x509.pem_blocks(pem)
    for name in missing:
        monkeypatch.setitem(sys.modules, name, None)  # import then raises ImportError
    monkeypatch.setattr(x509, "_sha1_new", None)
    assert [x509.subject_hash(der)] == _openssl_hashes([pem])
