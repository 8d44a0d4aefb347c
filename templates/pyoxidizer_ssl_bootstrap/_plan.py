"""What each new SSLContext loads: the plan, a function of the decision alone.

OpenSSL reads a bundle *file* whole into every context (tens of ms for ~150 roots) but looks
issuers up in a *directory* lazily. So ``build()`` splits the decision's bundles (and the extra
CAs) once into the private directory of <subject-hash>.N files (``_private_dir``), and each
context only adds that directory. Where no private directory can be made, the bundles are loaded
per context: slower, same trust.

``Plans`` keeps the plan of the current decision and checks at every context (one fstat) that its
directory is intact, rebuilding it if not. The modules that build a plan (``_data``, ``_x509``,
``_private_dir``) load at the first context, not when ssl is imported; the cutting and laying
out (``_layout``) only when no cache entry holds the decision's bundles.
"""

from __future__ import annotations

import _thread
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from typing import Any, Callable, Optional, Tuple, Union

    from . import _cache, _private_dir, _sources

    Directory = Union[_private_dir.PrivateDir, _cache.Entry]  # what contexts look issuers up in

    Note = Callable[[str, str], None]
    Load = Tuple[Optional[str], Optional[str], Optional[str]]  # (cafile, capath, cadata)
    Entry = Tuple[str, bytes, Optional[bytes]]  # (subject hash, PEM, DER)


class Plan:
    """What each new SSLContext loads, built once from a decision."""

    def __init__(
        self,
        decision: _sources.Decision,
        loads: list[Load],
        private: Directory | None,
        count: int | None,
    ) -> None:
        self.decision = decision
        self.loads = loads  # (cafile, capath, cadata) for load_verify_locations
        self.native = decision.native  # also OpenSSL's / the OS's own defaults
        self.private = private
        self.count = count  # certificates in the private directory, when there is one

    def current(self, decision: _sources.Decision) -> bool:
        return self.decision is decision and (self.private is None or self.private.intact())

    def location(self) -> tuple[str | None, str | None]:
        """Return (cafile, capath) that contexts load; capaths joined with os.pathsep."""
        cafiles = [cafile for cafile, _, _ in self.loads if cafile]
        capaths = [capath for _, capath, _ in self.loads if capath]
        return (cafiles[0] if cafiles else None, os.pathsep.join(capaths) or None)

    def load_into(
        self, ctx: Any, base_default: Callable[..., Any], base_load: Callable[..., Any], note: Note
    ) -> None:
        """Load the plan into ``ctx`` with the unpatched methods; a failing load is traced."""
        if self.native:
            base_default(ctx)
        for cafile, capath, cadata in self.loads:
            try:
                base_load(ctx, cafile, capath, cadata)
            except Exception as exc:
                where = cafile or capath or "in-memory certificates"
                note("plan.load_failed", f"loading {where!r} into a context failed: {exc!r}")


class Plans:
    """The plan of the current decision, built once (and again when its directory is lost)."""

    def __init__(self, decision: Callable[[], _sources.Decision], note: Note) -> None:
        self.decision = decision  # returns the process's decision (made at the first call)
        self.note = note
        self._lock = _thread.RLock()  # type: ignore[attr-defined]  # real, not in typeshed
        self._plan: Plan | None = None

    def current(self) -> Plan:
        """Return what each context loads, building it (and the private directory) once."""
        decision = self.decision()
        plan = self._plan
        if plan is not None and plan.current(decision):
            return plan
        note = self.note
        with self._lock:
            plan = self._plan
            if plan is not None and plan.decision is decision:
                private = plan.private
                if private is None or private.intact() or private.repair(note):
                    return plan
            plan = self._plan = build(decision, note)
            return plan


def build(decision: _sources.Decision, note: Note) -> Plan:
    """Turn a decision into the loads of every context, laying out the hashed directory: an
    entry of the between-runs cache where one may be used (``_cache``), else a private one."""
    from . import _data

    extra_ca = _data.EXTRA_CA
    split = [(path, data) for path, data in decision.files if data is not None]
    source = _unnamed(split)
    cache = None
    name = ident = None
    digests: dict[int, str] = {}
    if split or extra_ca:  # not for a hashed directory used as it is: nothing to lay out
        from . import _cache

        why = _cache.unavailable()
        if why is None:
            cache = _cache.open_cache(note, _data.EXPORT_ENV)
        else:
            note("cache.unavailable", f"cache: not used: {why}; using a private directory")
        if cache is not None:
            try:
                hit, name, ident = _lookup(decision, split, source, cache, digests, note)
            except Exception as exc:  # never the reason a context fails: today's path
                note("cache.failed", f"cache: lookup failed ({exc!r}); using a private directory")
                hit, name, ident = None, None, None
            if hit is not None:
                _cache.close(cache)
                return _plan_of(decision, hit, [], note)
    from . import _layout  # what only a miss runs: cutting, publishing, a private directory

    try:
        private, whole, count = _layout.lay_out(decision, note, cache, name, digests, ident, source)
    finally:
        if cache is not None:
            from . import _cache

            _cache.close(cache)
    return _plan_of(decision, private, whole, note, count)


def _lookup(
    decision: _sources.Decision,
    split: list[tuple[str | None, bytes]],
    source: bytes | None,
    cache: _cache.Opened,
    digests: dict[int, str],
    note: Note,
) -> tuple[_cache.Entry | None, str, str | None]:
    """(the entry found or None, its name, the bundles' identity if any), filling ``digests``
    when the bundles were hashed. ``source``: the bundle known by no file (``_unnamed``).

    Bundles whose files are unchanged since a run hashed them (``_cache.identity``: the fstat
    taken when they were read) name their entry without being hashed again; a bundle with no
    file (certifi) names it by a hint (``_cache.source_hint``) and is then compared with the
    copy the entry keeps; anything else, or an entry since gone or of other bytes, takes the
    digests. A key found by hashing is remembered for the next run."""
    import time

    from . import _cache, _data

    stats = dict(zip((id(data) for _, data in decision.files), decision.stats))
    ident = _cache.identity(
        _data.VERSION,
        [(path, stats.get(id(data))) for path, data in split],
        decision.certifi,
        _data.EXTRA_CA,
        time.time_ns(),
    )
    if ident is None and source is not None:
        ident = _cache.source_hint(_data.VERSION, decision.certifi, _data.EXTRA_CA, len(source))
    known = None
    if ident is not None:
        known = _cache.known_key(cache, ident, note)
        if known is not None:
            hit = _cache.lookup(cache, known, note, source)
            if hit is not None:
                return hit, known, ident
    digests.update((id(data), _cache.digest(data)) for _, data in split)
    name = _cache.key(
        _data.VERSION, [digests[id(d)] for _, d in split], decision.certifi, _data.EXTRA_CA
    )
    if name == known:  # looked up already (gone or refused): not twice in the trace
        return None, name, ident
    hit = _cache.lookup(cache, name, note)
    if hit is not None and ident is not None:
        from . import _cache_publish

        _cache_publish.remember_key(cache, ident, name, note)
    return hit, name, ident


def _unnamed(split: list[tuple[str | None, bytes]]) -> bytes | None:
    """The bundle split when it is one known by no file of its own (certifi), else None: its
    entry keeps a copy (``SOURCE``), by which a later run knows it without hashing it."""
    if len(split) == 1 and split[0][0] is None:
        return split[0][1]
    return None


def _plan_of(
    decision: _sources.Decision,
    private: Directory | None,
    whole: list[tuple[str | None, bytes | None]],
    note: Note,
    count: int | None = None,
) -> Plan:
    """The plan: the hashed directory, then what is loaded whole, then the decision's dirs.

    A cache hit lays out nothing: every bundle with data is in the entry, and one without data
    (read by OpenSSL itself) is loaded by path as always."""
    from . import _data

    if private is not None and not whole:
        whole = [(path, None) for path, data in decision.files if data is None]
    loads: list[Load] = [(None, private.path, None)] if private is not None else []
    if private is None and _data.EXTRA_CA:
        extra = "".join(pem for _, pem in _data.EXTRA_CA).encode("ascii")
        whole.append((None, extra))
    for path, data in whole:
        if path is not None:
            loads.append((path, None, None))
        elif data is not None:
            loads.append((None, None, data.decode("ascii", "replace")))
    loads.extend((None, path, None) for path in decision.dirs)
    if private is not None and count is None:
        count = getattr(private, "count", None)  # an Entry knows its own
    return Plan(decision, loads, private, count if private is not None else None)
