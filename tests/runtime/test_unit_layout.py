"""_layout cuts a bundle into <subject hash>.N entries, in process: a block whose text is one of
the build's certifi roots takes the build's name unparsed; every other block is hashed here."""

from __future__ import annotations

import base64

import pytest


@pytest.fixture
def layout(runtime):
    from pyoxidizer_ssl_bootstrap import _layout

    return _layout


def _rewrapped(der: bytes) -> bytes:
    """The same certificate in 76-column lines: its text is no longer the one certifi writes."""
    body = base64.encodebytes(der)
    return b"-----BEGIN CERTIFICATE-----\n" + body + b"-----END CERTIFICATE-----\n"


def test_certifi_roots_in_a_bundle_are_named_as_hashing_names_them(layout, trace, bundle_pem):
    from pyoxidizer_ssl import x509

    der = x509.pem_blocks(bundle_pem)[3][1]
    data = bundle_pem + _rewrapped(der)
    out = layout._hash_bundle("/bundle.pem", data, False, trace)
    assert [name for name, _, _ in out] == [x509.subject_hash(d) for _, d in x509.pem_blocks(data)]
    assert [pem for _, pem, _ in out] == x509.pem_texts(data)
    # The fixture's twenty certifi roots go unparsed; the test CA and the rewrapped root do not.
    assert [der is None for _, _, der in out] == [True] * 20 + [False, False]
    assert trace.step("plan.known_roots").startswith("'/bundle.pem': 20 of 22 certificates")


def test_without_the_builds_roots_every_block_is_hashed(layout, trace, bundle_pem, monkeypatch):
    from pyoxidizer_ssl_bootstrap import _data

    from pyoxidizer_ssl import x509

    monkeypatch.setattr(_data, "CERTIFI_TEXT_DIGESTS", "")
    out = layout._hash_bundle("/bundle.pem", bundle_pem, False, trace)
    assert [(name, der) for name, _, der in out] == [
        (x509.subject_hash(der), der) for _, der in x509.pem_blocks(bundle_pem)
    ]
    assert "plan.known_roots" not in trace.step_keys()


def test_a_block_that_does_not_decode_is_skipped_and_said(layout, trace, bundle_pem):
    corrupt = b"-----BEGIN CERTIFICATE-----\nMIIB!!!not base64!!!\n-----END CERTIFICATE-----\n"
    out = layout._hash_bundle(None, corrupt + bundle_pem, False, trace)
    assert len(out) == 21
    assert (
        trace.step("plan.undecodable") == "'certifi': 1 certificate blocks do not decode; skipped"
    )
