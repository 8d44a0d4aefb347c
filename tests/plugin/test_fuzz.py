"""Hypothesis fuzzing (bounded for CI): bad input only ever raises our own ValueError."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import certifi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyoxidizer_ssl import certinfo, config, extra_ca, x509

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROOTS = x509.pem_blocks(Path(certifi.where()).read_bytes())

toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
keys = st.sampled_from([*config.KEYS, "trusts", ""]) | st.text(max_size=8)


@FUZZ
@given(st.dictionaries(keys, toml_values, max_size=5))
def test_config_loader_accepts_or_names_the_problem(raw):
    try:
        cfg = config.validate(raw, Path("/base"))
    except config.ConfigError as exc:
        assert str(exc).startswith(("tool.pyoxidizer-ssl: invalid ", "--"))
        assert "; must be " in str(exc)
    else:
        assert set(cfg.trust) <= set(config.TRUST_SOURCES) and cfg.trust


@FUZZ
@given(st.binary(max_size=2048))
def test_der_reader_raises_only_value_error(data):
    for reader in (x509.subject_hash, certinfo.cert_info):
        with contextlib.suppress(ValueError):
            reader(data)


@FUZZ
@given(st.sampled_from(ROOTS), st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_mutated_real_certificates_raise_only_value_error(block, position, byte):
    der = bytearray(block[1])
    der[position % len(der)] = byte
    for reader in (x509.subject_hash, certinfo.cert_info):
        with contextlib.suppress(ValueError):
            reader(bytes(der))


pem_like = st.one_of(
    st.binary(max_size=4096),
    st.builds(
        lambda a, b, c: (
            a + b"-----BEGIN CERTIFICATE-----\n" + b + b"\n-----END CERTIFICATE-----\n" + c
        ),
        st.binary(max_size=64),
        st.binary(max_size=1024),
        st.binary(max_size=64),
    ),
    st.sampled_from(ROOTS).map(lambda block: block[0][: len(block[0]) // 2]),
)


@FUZZ
@given(pem_like)
def test_pem_validator_accepts_or_names_the_file(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ca.pem"
        path.write_bytes(data)
        try:
            cas, _ = extra_ca.load_extra_ca((path,), "tool.pyoxidizer-ssl")
        except ValueError as exc:
            assert str(exc).startswith(f"tool.pyoxidizer-ssl: invalid extra_ca {str(path)!r}")
        else:
            assert cas and all(ca.pem.startswith("-----BEGIN CERTIFICATE-----") for ca in cas)
