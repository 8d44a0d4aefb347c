"""Our subject hash equals ``openssl x509 -subject_hash`` for every certifi root and odd names."""

from __future__ import annotations

import subprocess
from pathlib import Path

import certifi
import pytest
from cryptography import x509 as cx
from cryptography.x509.oid import NameOID

from pyoxidizer_ssl import certinfo, x509
from support.certs import self_signed
from support.env import clean_env


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


@pytest.mark.parametrize("der", [b"", b"\x30", b"\x30\x84\xff\xff\xff\xff", b"\x02\x01\x00"])
def test_malformed_der_is_a_value_error(der):
    with pytest.raises(ValueError):
        x509.subject_hash(der)
