"""Build-time checks of ``extra_ca`` files: each must hold usable CA certificates.

Bad input fails the build with a message naming the file and the fix; a CA that expires soon
only warns. The binary never sees a file that was not checked here.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from . import certinfo, x509
from .config import ConfigError

MAX_CA_FILE_BYTES = 1024 * 1024
EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True)
class ExtraCA:
    """One corporate root to embed: its PEM and OpenSSL subject hash."""

    pem: str
    subject_hash: str


def _utc(t: tuple[int, int, int, int, int, int]) -> dt.datetime:
    return dt.datetime(*t, tzinfo=dt.timezone.utc)


def _read(path: Path, where: str) -> bytes:
    fix = "must be a readable PEM file of CA certificates"
    if not path.exists():
        raise ConfigError(f"{where}: invalid extra_ca {str(path)!r}; file not found; {fix}")
    if path.is_dir():
        raise ConfigError(f"{where}: invalid extra_ca {str(path)!r}; it is a directory; {fix}")
    size = path.stat().st_size
    if size > MAX_CA_FILE_BYTES:
        raise ConfigError(
            f"{where}: invalid extra_ca {str(path)!r}; {size} bytes is over the limit of "
            f"{MAX_CA_FILE_BYTES} bytes; pass only the CA certificates you need"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{where}: invalid extra_ca {str(path)!r}; cannot read it ({exc.strerror}); {fix}"
        ) from None
    if not data.strip():
        raise ConfigError(f"{where}: invalid extra_ca {str(path)!r}; the file is empty; {fix}")
    return data


def _certificates(data: bytes, name: str, where: str) -> list[bytes]:
    if b"-----BEGIN" not in data:
        try:  # a single DER certificate is accepted as it is
            certinfo.cert_info(data)
        except ValueError:
            raise ConfigError(
                f"{where}: invalid extra_ca {name!r}; not PEM and not a DER certificate; "
                "must hold '-----BEGIN CERTIFICATE-----' blocks"
            ) from None
        return [data]
    ders = [der for _, der in x509.pem_blocks(data)]
    if not ders:
        labels = "a private key" if b"PRIVATE KEY-----" in data else "no certificate"
        raise ConfigError(
            f"{where}: invalid extra_ca {name!r}; the PEM holds {labels}; "
            "must hold '-----BEGIN CERTIFICATE-----' blocks of CA certificates"
        )
    return ders


def load_extra_ca(
    paths: tuple[Path, ...], where: str, now: dt.datetime | None = None
) -> tuple[list[ExtraCA], list[str]]:
    """Read and check every file; return the CAs (deduplicated, in order) and warnings."""
    now = now or dt.datetime.now(dt.timezone.utc)
    found: dict[bytes, ExtraCA] = {}
    warnings = []
    for path in paths:
        name = os.fspath(path)
        for der in _certificates(_read(path, where), name, where):
            try:
                info = certinfo.cert_info(der)
            except ValueError as exc:
                raise ConfigError(
                    f"{where}: invalid extra_ca {name!r}; a certificate does not parse ({exc}); "
                    "must hold well-formed X.509 CA certificates"
                ) from None
            label = f"{name!r} ({info.subject})"
            if not info.is_ca:
                raise ConfigError(
                    f"{where}: invalid extra_ca {label}; it is not a CA certificate "
                    "(basicConstraints CA:FALSE or absent); pass the issuing root, not a leaf"
                )
            not_after = _utc(info.not_after)
            if not_after <= now:
                raise ConfigError(
                    f"{where}: invalid extra_ca {label}; it expired on {not_after:%Y-%m-%d}; "
                    "pass a current CA certificate"
                )
            if not_after - now <= dt.timedelta(days=EXPIRY_WARNING_DAYS):
                warnings.append(
                    f"{where}: extra_ca {label} expires on {not_after:%Y-%m-%d}, within "
                    f"{EXPIRY_WARNING_DAYS} days; replace it before then"
                )
            if der not in found:
                pem = certinfo.der_to_pem(der).decode("ascii")
                found[der] = ExtraCA(pem, info.subject_hash)
    return list(found.values()), warnings
