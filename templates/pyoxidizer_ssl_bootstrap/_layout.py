"""What only a miss of the between-runs cache runs: the decision's bundles cut into
<subject-hash>.N files, published as a cache entry or laid out in a private directory.

Split from ``_plan`` so that a hit, which lays nothing out, does not unmarshal this code
(every module a first context imports costs its bytecode's unmarshalling, the collections its
objects set off and its finalisation at exit). ``_plan.build`` calls ``lay_out`` and makes the
plan of what it returns.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from typing import Callable, Optional, Tuple, Union

    from . import _cache, _private_dir, _sources

    Directory = Union[_private_dir.PrivateDir, _cache.Entry]  # what contexts look issuers up in

    Note = Callable[[str, str], None]
    Entry = Tuple[str, bytes, Optional[bytes]]  # (subject hash, PEM, DER)


# Bytes of BLAKE2b by which a bundle's block is known as one of the build's certifi roots (the
# build computes the same, ``render.certifi_data``). A match only ever names a root the bundle
# itself holds: the name is where OpenSSL looks it up, never what it trusts.
TEXT_DIGEST_SIZE = 16


def lay_out(
    decision: _sources.Decision,
    note: Note,
    cache: _cache.Opened | None,
    name: str | None,
    digests: dict[int, str],
    ident: str | None = None,
    source: bytes | None = None,
) -> tuple[Directory | None, list[tuple[str | None, bytes | None]], int]:
    """(the hashed directory or None, what is loaded whole, its count) of a decision no cache
    entry holds: the bundles cut (``_hash_bundle``), published as an entry where the cache may
    be used (``_cache_publish``), else laid out in a private directory; ``_plan`` makes the plan.
    ``source``: the bundle known by no file of its own (certifi), which the entry keeps a copy
    of (``_plan._unnamed``)."""
    from . import _data

    entries: list[Entry] = []  # to lay out in the hashed directory
    whole: list[tuple[str | None, bytes | None]] = []  # bundles loaded as they are
    for path, data in decision.files:
        if data is None:
            hashed = None
        else:
            certifi = digests.get(id(data)) if decision.certifi else None
            hashed = _hash_bundle(path, data, decision.certifi, note, certifi)
        if hashed is None:
            whole.append((path, data))
        else:
            entries.extend(hashed)
    extra: list[Entry] = [(h, pem.encode("ascii"), None) for h, pem in _data.EXTRA_CA]
    if extra:
        note("plan.extra_ca", f"extra CAs: {len(extra)} added to every context")
    files = _hashed_files(entries + extra)
    private: Directory | None = None
    if files and cache is not None and name is not None:
        if any(data is not None for _, data in whole):
            note("cache.skipped", "cache: a bundle is loaded whole (unparsable): not cached")
        else:
            from . import _cache_publish

            try:
                if _cache_publish.worth_publishing(cache, name, note):
                    private = _cache_publish.publish(cache, name, files, note, source or b"")
                    if private is not None and ident is not None:
                        _cache_publish.remember_key(cache, ident, name, note)
            except Exception as exc:  # never the reason a context fails: today's path
                note("cache.failed", f"cache: publishing failed ({exc!r}); a private directory")
    if private is None and files:
        from . import _private_dir

        private = _private_dir.create(files, note)
    if private is not None:
        note(
            "plan.private_dir",
            f"hashed directory {private.real_path!r} (contexts use {private.path!r}): "
            f"{len(files)} certificates",
        )
    elif entries:
        whole = list(decision.files)
    return private, whole, len(files)


def _hash_bundle(
    path: str | None, data: bytes, certifi: bool, note: Note, known: str | None = None
) -> list[Entry] | None:
    """Return the bundle's (subject hash, PEM, DER or None), or None to load the file whole.

    certifi's bundle is recognised by its BLAKE2b (``known``, when the cache computed it
    already) and then named by the build's hashes: its blocks are cut out as text, without
    decoding any base64 (the build decoded every one of these very bytes) or parsing a
    certificate. In any other bundle (a distro's, a newer certifi), a block whose text is
    byte for byte one of the build's certifi roots takes that root's name the same way (a
    distro's bundle is Mozilla's roots, mostly written as certifi writes them); only the
    others are decoded and hashed here. Duplicates are then told apart by their DER, or by
    their PEM text where it was not decoded.
    """
    from . import _cache, _data, _x509

    if certifi:
        if known is None:
            known = _cache.digest(data)
        if known == _data.CERTIFI_BLAKE2B:
            texts = _x509.pem_texts(data)
            if len(texts) == len(_data.CERTIFI_HASHES):
                return [(name, pem, None) for name, pem in zip(_data.CERTIFI_HASHES, texts)]
        note(
            "plan.certifi_rehashed",
            f"certifi differs from the build's {_data.CERTIFI_VERSION}; hashing it now",
        )
    roots = dict(zip(_data.CERTIFI_TEXT_DIGESTS.split(), _data.CERTIFI_HASHES))
    label = path or "certifi"
    out: list[Entry] = []
    for index, pem in enumerate(_x509.pem_texts(data)):
        name = roots.get(_cache.digest(pem, TEXT_DIGEST_SIZE))
        if name is not None:
            out.append((name, pem, None))
            continue
        decoded = _x509.pem_blocks(pem)
        if not decoded:
            continue  # does not decode: counted below, as OpenSSL skips it
        der = decoded[0][1]
        try:
            name = _x509.subject_hash(der)
        except ValueError as exc:
            note(
                "plan.unparsable",
                f"{path!r}: certificate {index + 1} does not parse ({exc}); "
                "loading the whole file per context",
            )
            return None
        out.append((name, pem, der))
    skipped = _x509.count_certificate_markers(data) - len(out)
    if skipped:
        note("plan.undecodable", f"{label!r}: {skipped} certificate blocks do not decode; skipped")
    named = sum(1 for _, _, der in out if der is None)
    if named:
        note(
            "plan.known_roots",
            f"{label!r}: {named} of {len(out)} certificates are the build's certifi roots, "
            "named by the build's hashes; the rest hashed now",
        )
    return out


def _hashed_files(entries: list[Entry]) -> list[tuple[str, bytes]]:
    """Name each distinct certificate <subject hash>.N, first occurrence first."""
    seen: set[bytes] = set()
    counts: dict[str, int] = {}
    files = []
    for name, pem, der in entries:
        key = der if der is not None else pem.strip()
        if key in seen:
            continue
        seen.add(key)
        index = counts.get(name, 0)
        counts[name] = index + 1
        files.append((f"{name}.{index}", pem))
    return files
