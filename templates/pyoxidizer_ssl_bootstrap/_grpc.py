"""grpc: ``ssl_channel_credentials()`` without roots gets the decision as PEM bytes.

Why: grpcio verifies with its own BoringSSL and, given no roots, its own ``roots.pem`` (Mozilla's,
shipped in the wheel): it never reads OpenSSL's paths, the host's store or ``extra_ca``. Its one
way in is the ``root_certificates`` argument, PEM bytes, so the decision is written out as PEM:
the bundle files (env, system or embedded certifi), every certificate of its hashed directories,
then the extra CAs. Loaded only when the app imports grpc, with ``grpc = true`` in the config.

Untouched: explicit roots, and a ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`` the user set (grpc's own
setting). A decision that has no certificates to write out (the OS verifier, Windows' store, no
usable source) leaves grpc's own roots; a strict env that names nothing gives only the extra CAs,
and the handshake then fails, as it does for every other client.
"""

from __future__ import annotations

import os

from . import _data, _sources, _x509

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from types import ModuleType
    from typing import Any, Callable

    Note = Callable[[str, str], None]

_ROOTS_ENV = "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"
_cache: list[tuple[_sources.Decision, bytes | None]] = []  # (decision, its PEM), newest only


def patch(
    grpc: ModuleType, decision: Callable[[], _sources.Decision], note: Note, note_once: Note
) -> None:
    """Wrap ``grpc.ssl_channel_credentials`` (once) so no roots means the decision's roots.

    ``decision`` returns the process's decision; ``note_once`` adds a step to the trace once.
    """
    original = getattr(grpc, "ssl_channel_credentials", None)
    if original is None or getattr(original, "_pyoxidizer_ssl", False):
        return

    def ssl_channel_credentials(root_certificates: Any = None, *args: Any, **kwargs: Any) -> Any:
        if root_certificates is None:
            root_certificates = roots(decision, note, note_once)
        return original(root_certificates, *args, **kwargs)

    ssl_channel_credentials.__doc__ = original.__doc__
    ssl_channel_credentials._pyoxidizer_ssl = True  # type: ignore[attr-defined]
    grpc.ssl_channel_credentials = ssl_channel_credentials  # type: ignore[attr-defined]
    note(
        "grpc.patched",
        "grpc patched: ssl_channel_credentials() without roots gets the decision as PEM "
        "(credentials made before this are unchanged)",
    )


def roots(decision: Callable[[], _sources.Decision], note: Note, note_once: Note) -> bytes | None:
    """The decision (and extra CAs) as PEM for grpc; None leaves grpc's own. Never raises."""
    try:
        if os.environ.get(_ROOTS_ENV):
            note_once("grpc.env_roots", f"grpc: {_ROOTS_ENV} is set; grpc keeps the roots it names")
            return None
        decided = decision()
        if _cache and _cache[0][0] is decided:
            return _cache[0][1]
        pem = _decision_pem(decided, note)
        _cache[:] = [(decided, pem)]
        return pem
    except Exception as exc:
        note_once(
            "grpc.failed", f"grpc: building the roots failed ({exc!r}); grpc keeps its own roots"
        )
        return None


def _decision_pem(decision: _sources.Decision, note: Note) -> bytes | None:
    if decision.native:
        note(
            "grpc.native",
            f"grpc: the decision ({decision.source or 'none'}) has no certificates to hand to "
            "grpc; it keeps its own roots",
        )
        return None
    texts: list[bytes] = []
    for path, data in decision.files:
        if data is None and path is not None:
            data = _sources.read_bundle(path, "grpc: bundle", note)
        if data:
            texts.append(data)
    for directory in decision.dirs:
        texts.extend(_hashed_certificates(directory, note))
    texts.extend(pem.encode("ascii") for _, pem in _data.EXTRA_CA)
    seen: set[bytes] = set()
    out: list[str] = []
    for text in texts:
        for _, der in _x509.pem_blocks(text):
            try:
                _, _, end = _x509.der_element(der, 0)  # a TRUSTED CERTIFICATE's aux data dropped
            except ValueError:
                continue  # OpenSSL cannot use it either
            cert = der[:end]
            if cert not in seen:
                seen.add(cert)
                out.append(_pem(cert))
    note("grpc.roots", f"grpc: {len(out)} root certificates from the decision ({decision.source})")
    return "".join(out).encode("ascii")


def _hashed_certificates(directory: str, note: Note) -> list[bytes]:
    """The files of a hashed directory (XXXXXXXX.N) as read, in name order; unreadable skipped."""
    texts = []
    try:
        names = sorted(n for n in os.listdir(directory) if _x509.is_hash_name(n))
    except OSError as exc:
        note("grpc.dir_unreadable", f"grpc: {directory!r}: {exc.strerror or exc}; skipped")
        return []
    for name in names:
        path = os.path.join(directory, name)
        try:
            with open(path, "rb") as f:
                texts.append(f.read(_sources.MAX_BUNDLE_BYTES))
        except OSError as exc:
            note("grpc.file_unreadable", f"grpc: {path!r}: {exc.strerror or exc}; skipped")
    return texts


def _pem(der: bytes) -> str:
    import ssl

    return ssl.DER_cert_to_PEM_cert(der)
