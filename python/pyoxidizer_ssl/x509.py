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

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from collections.abc import Iterator
    from typing import Any, Callable

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


def _certificate_spans(data: bytes) -> Iterator[tuple[int, int, int, int]]:
    """(block start, body start, body end, block end) of each certificate block, in order.

    A block whose END names another label than its BEGIN is not one (the search goes on for its
    own footer); the text ends at a block without one. Other labels are skipped.
    """
    find = data.find
    pos = 0
    while True:
        start = find(_BEGIN, pos)
        if start < 0:
            return
        label_end = find(_DASHES, start + 11)  # len(_BEGIN)
        if label_end < 0:
            return
        label = data[start + 11 : label_end]
        footer = _END + label + _DASHES
        end = find(footer, label_end)
        if end < 0:
            return
        pos = end + len(footer)
        if label in CERT_LABELS:
            yield start, label_end + 5, end, pos  # 5: len(_DASHES)


def pem_blocks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Return (PEM block, DER) for each certificate in a PEM text, in order; other blocks skipped.

    A block whose base64 does not decode is skipped too (OpenSSL would stop there; the rest of a
    distro bundle is still its trust). Callers compare with ``count_certificate_markers``.
    """
    blocks: list[tuple[bytes, bytes]] = []
    for start, body, end, stop in _certificate_spans(data):
        try:
            der = binascii.a2b_base64(data[body:end])
        except (binascii.Error, ValueError):
            continue
        if der:
            blocks.append((data[start:stop] + b"\n", der))
    return blocks


def pem_texts(data: bytes) -> list[bytes]:
    """Each certificate block's PEM text as ``pem_blocks`` gives it, not decoded.

    For a bundle whose blocks are known to decode, with names known (certifi's, once its
    digest matched the build's): only the text is written, so no base64 is decoded at all.
    """
    return [data[start:stop] + b"\n" for start, _, _, stop in _certificate_spans(data)]


def pem_bodies(data: bytes) -> list[bytes]:
    """Return each certificate block's base64 text as written, not decoded.

    What tells cheaply that two PEM texts hold the same certificates: a hashed directory a
    distro wrote beside its bundle is compared with the bundle this way (``_sources``), so a
    difference in line breaks alone counts as a difference. An unterminated block ends the text
    and one whose END names another label is skipped: OpenSSL stops reading at either, so it
    never loads a certificate this does not list.
    """
    bodies: list[bytes] = []
    find = data.find
    pos = 0
    while True:
        start = find(_BEGIN, pos)
        if start < 0:
            return bodies
        label_end = find(_DASHES, start + 11)  # len(_BEGIN)
        end = find(_END, label_end)
        if label_end < 0 or end < 0:
            return bodies
        label = data[start + 11 : label_end]
        pos = end + 9 + len(label) + 5  # past "-----END <label>-----"
        if data[end + 9 : pos] == label + _DASHES and label in CERT_LABELS:
            bodies.append(data[label_end + 5 : end])


def count_certificate_markers(data: bytes) -> int:
    """How many certificate blocks a PEM text claims to hold (decodable or not)."""
    return sum(data.count(b"-----BEGIN " + label + b"-----") for label in CERT_LABELS)


def is_hash_name(name: str) -> bool:
    """True for an OpenSSL hashed-directory entry name: eight hex digits, a dot, a number."""
    suffix = name[9:]
    return (
        name[8:9] == "."
        and not name[:8].strip("0123456789abcdef")
        and suffix.isdigit()
        and suffix.isascii()
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


def _header(der: bytes, pos: int) -> tuple[int, int]:
    """Return (content start, content end) of the DER element whose tag is at ``pos``.

    The lean twin of ``der_element`` for the hash, which runs for every root of a system bundle
    at the first TLS context; past the end of ``der`` it raises IndexError (callers map it).
    """
    length = der[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise ValueError("bad DER length")
        length = int.from_bytes(der[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(der):
        raise ValueError("DER element runs past its container")
    return pos, end


def _canon_value(tag: int, raw: bytes) -> bytes:
    """Return the canonical encoding of one attribute value (ASN1_STRING canon in OpenSSL)."""
    width = _CANON_WIDTH.get(tag)
    if width is None:  # not a string type OpenSSL canonicalises: copied, re-encoded as DER
        return _encode(tag, raw)
    if width <= 1 and raw.isascii():  # nearly every value: a one-byte type's ASCII is its UTF-8
        value = raw
    else:  # BMPString/UniversalString are never their bytes, even when those are all ASCII
        value = string_text(tag, raw).encode("utf-8", "surrogatepass")  # type: ignore[union-attr]
    # bytes.split() splits on exactly OpenSSL's ASCII white space (space \t \n \v \f \r) and
    # bytes.lower() folds only A-Z, leaving UTF-8 multi-byte sequences alone, as OpenSSL does.
    value = b" ".join(value.split()).lower()
    if len(value) < 0x80:
        return bytes((_UTF8, len(value))) + value
    return _encode(_UTF8, value)


def _name_canon(der: bytes, pos: int, end: int) -> bytes:
    """Return a Name's canonical encoding: each RDN a SET of re-encoded attributes, sorted.

    One pass over the DER without building element lists, short lengths read in line: it runs
    ~150 times at the first context on a host whose bundle is hashed at run time. Each element
    must lie inside its parent (checked), so a short length never needs its own bounds check.
    """
    out = []
    while pos < end:
        if der[pos] != _SET:
            raise ValueError("bad RDN")
        if der[pos + 1] < 0x80:
            pos, rdn_end = pos + 2, pos + 2 + der[pos + 1]
        else:
            pos, rdn_end = _header(der, pos)
        if rdn_end > end:
            raise ValueError("RDN runs past its Name")
        avas = []
        while pos < rdn_end:
            if der[pos] != _SEQUENCE:
                raise ValueError("bad attribute")
            if der[pos + 1] < 0x80:
                start, ava_end = pos + 2, pos + 2 + der[pos + 1]
            else:
                start, ava_end = _header(der, pos)
            if ava_end > rdn_end or der[start] != _OID or der[start + 1] & 0x80:
                raise ValueError("bad attribute")
            oid_end = start + 2 + der[start + 1]  # an OID is short (DER: one length byte)
            tag = der[oid_end]
            if der[oid_end + 1] < 0x80:
                value_start, value_end = oid_end + 2, oid_end + 2 + der[oid_end + 1]
            else:
                value_start, value_end = _header(der, oid_end)
            if value_end != ava_end:
                raise ValueError("bad attribute")
            raw = der[value_start:value_end]
            if (tag == 0x13 or tag == _UTF8) and raw.isascii():  # PrintableString, ASCII UTF-8
                value = b" ".join(raw.split()).lower()
                value = (
                    bytes((_UTF8, len(value))) + value
                    if len(value) < 0x80
                    else _encode(_UTF8, value)
                )
            else:
                value = _canon_value(tag, raw)
            ava = der[start:oid_end] + value
            if len(ava) < 0x80:
                avas.append(bytes((_SEQUENCE, len(ava))) + ava)
            else:
                avas.append(_encode(_SEQUENCE, ava))
            pos = ava_end
        if len(avas) > 1:
            avas.sort()  # DER's SET OF order, as OpenSSL's encoder sorts it
        out.append(_encode(_SET, b"".join(avas)))
    return b"".join(out)


def _sha1_function() -> Callable[[bytes], Any]:
    """CPython's own SHA-1 module: a builtin in python-build-standalone, one small shared
    library elsewhere (~0.2 ms), where hashlib costs ~1 ms more (it loads every algorithm and
    OpenSSL's bindings). hashlib if a build lacks it."""
    try:
        from _sha1 import sha1  # type: ignore[import-not-found]
    except ImportError:
        try:
            from _hashlib import openssl_sha1 as sha1
        except ImportError:
            from hashlib import sha1
    return sha1  # type: ignore[no-any-return]


_sha1_new: Callable[[bytes], Any] | None = None


def name_hash(der: bytes, start: int, end: int) -> str:
    """Return OpenSSL's hash of the Name whose content spans ``der[start:end]``."""
    global _sha1_new
    if _sha1_new is None:  # at first use: certifi's names are hashed at build time
        _sha1_new = _sha1_function()
    try:
        digest = _sha1_new(_name_canon(der, start, end)).digest()
    except IndexError:
        raise ValueError("truncated Name") from None
    return format(int.from_bytes(digest[:4], "little"), "08x")


def subject_hash(der: bytes) -> str:
    """Return ``openssl x509 -subject_hash`` of a DER certificate; ValueError if malformed."""
    try:
        if der[0] != _SEQUENCE:
            raise ValueError("not a certificate: outer element is not a SEQUENCE")
        pos, _ = _header(der, 0)
        if der[pos] != _SEQUENCE:
            raise ValueError("not a certificate: no tbsCertificate")
        pos, tbs_end = _header(der, pos)
        if der[pos] == 0xA0:  # explicit [0] version
            pos = _header(der, pos)[1]
        if der[pos] != _INTEGER:
            raise ValueError("not a certificate: no serial number")
        for _ in range(4):  # serial, signature, issuer, validity
            pos = _header(der, pos)[1]
        if pos >= tbs_end or der[pos] != _SEQUENCE:
            raise ValueError("not a certificate: no subject")
        start, end = _header(der, pos)
        if end > tbs_end:
            raise ValueError("subject runs past tbsCertificate")
        return name_hash(der, start, end)
    except IndexError:
        raise ValueError("malformed certificate") from None
