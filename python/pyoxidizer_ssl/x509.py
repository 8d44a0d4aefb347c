"""The few X.509 facts both halves need: PEM blocks, DER fields, OpenSSL's subject-name hash.

This file is copied verbatim into the rendered bootstrap as ``_x509.py`` (render.py),
so the build plugin and the binary hash names with the same code. It is therefore stdlib only,
runs on CPython 3.8+, and holds only what the binary needs: it is loaded at the first TLS
context, so every import and every byte here is paid for there (build-only checks live in
certinfo.py).

The subject hash is OpenSSL's ``X509_NAME_hash_ex``: the first four bytes, little-endian, of SHA-1
over the name's canonical encoding (each string value converted to UTF-8, ASCII-lower-cased, with
leading and trailing white space dropped and inner runs folded to one space). OpenSSL finds an
issuer in a ``capath`` directory by that hash, which is what makes a hashed directory cheap to load.
"""

from __future__ import annotations

import binascii

_BEGIN = b"-----BEGIN "
_END = b"-----END "
_DASHES = b"-----"
CERT_LABELS = (b"CERTIFICATE", b"TRUSTED CERTIFICATE", b"X509 CERTIFICATE")

# ASN.1 tags
_SEQUENCE = 0x30
_SET = 0x31
_INTEGER = 0x02
_OID = 0x06
_UTF8 = 0x0C
# String types OpenSSL canonicalises (ASN1_MASK_CANON), with their byte width; 0 means UTF-8.
_CANON_WIDTH = {0x0C: 0, 0x13: 1, 0x14: 1, 0x16: 1, 0x1A: 1, 0x1E: 2, 0x1C: 4}


def pem_blocks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Return (PEM block, DER) for each certificate in a PEM text, in order; other blocks skipped.

    A block whose base64 does not decode is skipped too (OpenSSL would stop there; the rest of a
    distro bundle is still its trust). Callers compare with ``count_certificate_markers``.
    """
    blocks: list[tuple[bytes, bytes]] = []
    pos = 0
    while True:
        start = data.find(_BEGIN, pos)
        if start < 0:
            return blocks
        label_end = data.find(_DASHES, start + len(_BEGIN))
        if label_end < 0:
            return blocks
        label = data[start + len(_BEGIN) : label_end]
        footer = _END + label + _DASHES
        end = data.find(footer, label_end)
        if end < 0:
            return blocks
        pos = end + len(footer)
        if label not in CERT_LABELS:
            continue
        body = data[label_end + len(_DASHES) : end]
        try:
            der = binascii.a2b_base64(body)
        except (binascii.Error, ValueError):
            continue
        if der:
            blocks.append((data[start:pos] + b"\n", der))


def count_certificate_markers(data: bytes) -> int:
    """How many certificate blocks a PEM text claims to hold (decodable or not)."""
    return sum(data.count(b"-----BEGIN " + label + b"-----") for label in CERT_LABELS)


def is_hash_name(name: str) -> bool:
    """True for an OpenSSL hashed-directory entry name: eight hex digits, a dot, a number."""
    stem, dot, suffix = name.partition(".")
    return (
        dot == "."
        and len(stem) == 8
        and suffix.isdigit()
        and all(c in "0123456789abcdef" for c in stem)
    )


def der_element(data: bytes, pos: int) -> tuple[int, int, int]:
    """Read one DER element at ``pos``: return (tag, content start, content end)."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER element")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("DER element runs past its container")
    return tag, pos, pos + length


def der_children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """Return (tag, element start, content start, content end) for each element in a range."""
    items = []
    pos = start
    while pos < end:
        tag, cstart, cend = der_element(data, pos)
        items.append((tag, pos, cstart, cend))
        pos = cend
    if pos != end:
        raise ValueError("DER elements overrun their container")
    return items


def _encode(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


def tbs_fields(der: bytes) -> list[tuple[int, int, int, int]]:
    """Return the tbsCertificate fields after the version: serial, signature, issuer, ..."""
    tag, start, _ = der_element(der, 0)
    if tag != _SEQUENCE:
        raise ValueError("not a certificate: outer element is not a SEQUENCE")
    tag, tstart, tend = der_element(der, start)
    if tag != _SEQUENCE:
        raise ValueError("not a certificate: no tbsCertificate")
    fields = der_children(der, tstart, tend)
    if fields and fields[0][0] == 0xA0:  # explicit [0] version
        fields = fields[1:]
    if len(fields) < 6 or fields[0][0] != _INTEGER:
        raise ValueError("not a certificate: tbsCertificate is too short")
    return fields


def string_text(tag: int, raw: bytes) -> str | None:
    """The text of an ASN.1 string value as OpenSSL reads it; None for a type it keeps as bytes.

    UTF8String is UTF-8; PrintableString, T61String, IA5String and VisibleString are Latin-1
    (as OpenSSL treats T61String); BMPString is UCS-2 and UniversalString UCS-4, big-endian.
    ValueError (UnicodeDecodeError is one) when the bytes do not fit the type.
    """
    width = _CANON_WIDTH.get(tag)
    if width is None:
        return None
    if width == 0:
        return raw.decode("utf-8")
    if width == 1:
        return raw.decode("latin-1")
    if len(raw) % width:
        raise ValueError("bad string length")
    return "".join(
        chr(int.from_bytes(raw[i : i + width], "big")) for i in range(0, len(raw), width)
    )


def _canon_value(tag: int, raw: bytes) -> bytes:
    text = string_text(tag, raw)
    if text is None:
        return _encode(tag, raw)
    # bytes.split() splits on exactly OpenSSL's ASCII white space (space \t \n \v \f \r) and
    # bytes.lower() folds only A-Z, leaving UTF-8 multi-byte sequences alone, as OpenSSL does.
    value = b" ".join(text.encode("utf-8", "surrogatepass").split()).lower()
    return _encode(_UTF8, value)


def _name_canon(der: bytes, start: int, end: int) -> bytes:
    out = []
    for tag, _, rstart, rend in der_children(der, start, end):
        if tag != _SET:
            raise ValueError("bad RDN")
        avas = []
        for atag, _, astart, aend in der_children(der, rstart, rend):
            parts = der_children(der, astart, aend)
            if atag != _SEQUENCE or len(parts) != 2 or parts[0][0] != _OID:
                raise ValueError("bad attribute")
            oid = der[parts[0][1] : parts[0][3]]
            vtag, _, vstart, vend = parts[1]
            avas.append(_encode(_SEQUENCE, oid + _canon_value(vtag, der[vstart:vend])))
        out.append(_encode(_SET, b"".join(sorted(avas))))
    return b"".join(out)


def name_hash(der: bytes, start: int, end: int) -> str:
    """Return OpenSSL's hash of the Name whose content spans ``der[start:end]``."""
    # Imported here: the embedded certifi's names are hashed at build time, and hashlib costs
    # ~1.5 ms at a first TLS context that never needs it.
    import hashlib

    digest = hashlib.sha1(_name_canon(der, start, end)).digest()
    return format(int.from_bytes(digest[:4], "little"), "08x")


def subject_hash(der: bytes) -> str:
    """Return ``openssl x509 -subject_hash`` of a DER certificate; ValueError if malformed."""
    try:
        _, _, start, end = tbs_fields(der)[4]
        return name_hash(der, start, end)
    except IndexError:
        raise ValueError("malformed certificate") from None
