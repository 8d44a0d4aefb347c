"""The process's trust: the decision, what each SSLContext loads, and export to children.

Imported when ssl or certifi is first imported (or the Report is read), never at start-up.
The decision comes from ``_sources``; the plan turns it into loads: a bundle is split once into
the private directory of <subject-hash>.N files (``_private_dir``), since OpenSSL reads a bundle
file whole into every context (tens of ms for ~150 roots) but looks issuers up in a directory
lazily. Where no private directory can be made, the bundle is loaded per context: slower, same
trust. ``_patches`` makes every client call ``apply()``.
"""

from __future__ import annotations

import _thread
import os

from . import _patches

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from types import ModuleType
    from typing import Any, Callable, Optional, Tuple

    from . import _private_dir, _sources

    Load = Tuple[Optional[str], Optional[str], Optional[str]]  # (cafile, capath, cadata)
    Entry = Tuple[str, bytes, Optional[bytes]]  # (subject hash, PEM, DER)


class Plan:
    """What each new SSLContext loads, built once from a decision."""

    def __init__(
        self,
        decision: _sources.Decision,
        loads: list[Load],
        private: _private_dir.PrivateDir | None,
        count: int | None,
    ) -> None:
        self.decision = decision
        self.loads = loads  # (cafile, capath, cadata) for load_verify_locations
        self.native = decision.native  # also OpenSSL's / the OS's own defaults
        self.private = private
        self.count = count

    def current(self, decision: _sources.Decision) -> bool:
        return self.decision is decision and (self.private is None or self.private.intact())


class State:
    """The process's trust decision, the plan built from it, and what applies it."""

    def __init__(self, note: Callable[[str], None], trust: tuple[str, ...]) -> None:
        self.note = note
        self.trust = trust
        self.certifi_paths: set[str] = set()
        self._lock = _thread.RLock()  # type: ignore[attr-defined]  # real, not in typeshed
        if hasattr(os, "register_at_fork"):  # a child forked while another thread held it
            os.register_at_fork(after_in_child=self._fresh_lock)
        self._decision: _sources.Decision | None = None
        self._plan: Plan | None = None
        self._env: _sources.EnvSetting = (None, None)
        self._exported: dict[str, str] = {}
        self._noted: set[str] = set()

    def _fresh_lock(self) -> None:
        """In a forked child: the threads that held our lock, or were importing a module (the
        first context imports lazily: ours, hashlib), do not exist here, so what they held
        would never be freed. A fresh lock; their import locks dropped and the modules they had
        half run imported again."""
        self._lock = _thread.RLock()  # type: ignore[attr-defined]
        import sys

        try:  # importlib's per-module locks (CPython 3.8-3.13); frozen, already loaded
            from importlib import _bootstrap

            locks = _bootstrap._module_locks  # type: ignore[attr-defined]
            me = _thread.get_ident()
            for name, ref in list(locks.items()):
                owner = getattr(ref(), "owner", None)
                if owner is None or owner == me:
                    continue
                spec = getattr(sys.modules.get(name), "__spec__", None)
                if spec is not None and getattr(spec, "_initializing", False):
                    sys.modules.pop(name, None)
                locks.pop(name, None)
        except Exception:  # another Python's internals: the child may wait, as stock's can
            pass

    def note_once(self, message: str) -> None:
        if message not in self._noted:
            self._noted.add(message)
            self.note(message)

    # -- decision ------------------------------------------------------------------------------

    def decision(self) -> _sources.Decision:
        """Return the Decision, making it now if needed (or again if the app changed the env)."""
        decision = self._decision
        if decision is not None and ("env" not in self.trust or self._read_env() == self._env):
            return decision
        with self._lock:
            env = self._read_env()
            if self._decision is not None and env != self._env:
                self.note(
                    f"SSL_CERT_FILE/SSL_CERT_DIR changed to {env!r} after the decision; "
                    "deciding again"
                )
                self._decision = self._plan = None
            if self._decision is None:
                from . import _sources

                self._env = env
                self._decision = _sources.decide(self.trust, env, self.note)
            return self._decision

    def _read_env(self) -> _sources.EnvSetting:
        # Imported here, not when ssl is: the sources load at the first context, not before.
        from . import _sources

        return _sources.read_env(self._exported, self.note_once)

    # -- plan ----------------------------------------------------------------------------------

    def plan(self) -> Plan:
        """Return what each context loads, building it (and the private directory) once."""
        decision = self.decision()
        plan = self._plan
        if plan is not None and plan.current(decision):
            return plan
        with self._lock:
            plan = self._plan
            if plan is not None and plan.decision is decision:
                private = plan.private
                if private is None or private.intact() or private.repair(self.note):
                    return plan
            plan = self._plan = self._build(decision)
            return plan

    def _build(self, decision: _sources.Decision) -> Plan:
        # Loaded here, at the first context, not when ssl is imported: an app may never use TLS.
        from . import _data, _private_dir

        entries: list[Entry] = []  # to lay out in the private directory
        whole: list[tuple[str | None, bytes | None]] = []  # bundles loaded as they are
        for path, data in decision.files:
            hashed = None if data is None else self._hash_bundle(path, data, decision.certifi)
            if hashed is None:
                whole.append((path, data))
            else:
                entries.extend(hashed)
        extra: list[Entry] = [(h, pem.encode("ascii"), None) for h, pem in _data.EXTRA_CA]
        if extra:
            self.note(f"extra CAs: {len(extra)} added to every context")
        files = _hashed_files(entries + extra)
        private = _private_dir.create(files, self.note) if files else None
        if private is not None:
            self.note(
                f"hashed directory {private.real_path!r} (contexts use {private.path!r}): "
                f"{len(files)} certificates"
            )
        elif entries:
            whole = list(decision.files)
        loads: list[Load] = [(None, private.path, None)] if private is not None else []
        if private is None and extra:
            whole.append((None, b"".join(pem for _, pem, _ in extra)))
        for path, data in whole:
            if path is not None:
                loads.append((path, None, None))
            elif data is not None:
                loads.append((None, None, data.decode("ascii", "replace")))
        loads.extend((None, path, None) for path in decision.dirs)
        return Plan(decision, loads, private, len(files) if private is not None else None)

    def _hash_bundle(self, path: str | None, data: bytes, certifi: bool) -> list[Entry] | None:
        """Return the bundle's (subject hash, PEM, DER), or None to load the file whole."""
        from . import _data, _x509

        blocks = _x509.pem_blocks(data)
        skipped = _x509.count_certificate_markers(data) - len(blocks)
        label = path or "certifi"
        if skipped:
            self.note(f"{label!r}: {skipped} certificate blocks do not decode; skipped")
        names: tuple[str, ...] | None = None
        if certifi:
            import hashlib

            same = hashlib.sha256(data).hexdigest() == _data.CERTIFI_SHA256
            if same and len(blocks) == len(_data.CERTIFI_HASHES):
                names = _data.CERTIFI_HASHES
            else:
                self.note(
                    f"certifi differs from the build's {_data.CERTIFI_VERSION}; hashing it now"
                )
        out: list[Entry] = []
        for index, (pem, der) in enumerate(blocks):
            try:
                name = names[index] if names else _x509.subject_hash(der)
            except ValueError as exc:
                self.note(
                    f"{path!r}: certificate {index + 1} does not parse ({exc}); "
                    "loading the whole file per context"
                )
                return None
            out.append((name, pem, der))
        return out

    # -- what the report shows -----------------------------------------------------------------

    def location(self) -> tuple[str | None, str | None]:
        """Return (cafile, capath) that contexts load; capaths joined with os.pathsep."""
        plan = self.plan()
        cafiles = [cafile for cafile, _, _ in plan.loads if cafile]
        capaths = [capath for _, capath, _ in plan.loads if capath]
        return (cafiles[0] if cafiles else None, os.pathsep.join(capaths) or None)

    def certificate_count(self) -> int | None:
        return self.plan().count

    # -- applying it ---------------------------------------------------------------------------

    def apply(
        self, ctx: Any, base_default: Callable[..., Any], base_load: Callable[..., Any]
    ) -> None:
        """Load this process's trust into ``ctx``; on any fault fall back to stock defaults."""
        try:
            plan = self.plan()
        except Exception as exc:
            self.note_once(f"building the trust plan failed ({exc!r}); using OpenSSL defaults")
            base_default(ctx)
            return
        if plan.native:
            base_default(ctx)
        for cafile, capath, cadata in plan.loads:
            try:
                base_load(ctx, cafile, capath, cadata)
            except Exception as exc:
                where = cafile or capath or "in-memory certificates"
                self.note_once(f"loading {where!r} into a context failed: {exc!r}")

    def is_certifi_path(self, cafile: Any) -> bool:
        """True for a path that certifi or a vendored copy gave out (``where()``)."""
        if cafile is None:
            return False
        try:
            path = os.fsdecode(cafile)
        except TypeError:
            return False
        return path in self.certifi_paths or path in _patches.certifi_cached_paths()

    def patching_loader(self, loader: Any) -> _patches.PatchingLoader:
        """Wrap an import's loader so that the module is patched once it has run."""
        return _patches.PatchingLoader(loader, self)

    def patch(self, module: ModuleType) -> None:
        _patches.patch(self, module)

    def certifi_copy(self, error: Exception) -> str:
        """certifi.where() failed under this importer: give it a private copy of the bundle."""
        from . import _private_dir, _sources

        data = _sources.certifi_bundle(self.note)
        if not data:
            raise error
        private = _private_dir.create([("cacert.pem", data)], self.note, "pyoxidizer-ssl-certifi-")
        if private is None:
            raise error
        path = os.path.join(private.path, "cacert.pem")
        self.note(f"certifi.where() failed ({error!r}); serving a private copy {path!r}")
        return path

    # -- children ------------------------------------------------------------------------------

    def export_env(self) -> None:
        """Point SSL_CERT_FILE/SSL_CERT_DIR at the decision for child processes (export_env).

        Only paths nobody else can claim: the system store's own, or a private directory whose
        every parent only we and root can write (it lasts while this process runs; after that
        a child's TLS fails closed, since no one else can create that name).
        """
        from . import _data

        decision = self.decision()
        if decision.source in (None, "env", "truststore") or decision.native:
            self.note(f"export_env: nothing to export for source {decision.source!r}")
            return
        real_files = [path for path, _ in decision.files if path]
        values: dict[str, str] = {}
        if not _data.EXTRA_CA and len(real_files) == len(decision.files) <= 1:
            values = {"SSL_CERT_FILE": real_files[0]} if real_files else {}
            if decision.dirs:
                values["SSL_CERT_DIR"] = os.pathsep.join(decision.dirs)
        else:
            private = self.plan().private
            if private is None or not private.exportable():
                where = "no private directory" if private is None else repr(private.real_path)
                self.note(
                    f"export_env: not exported: {where} lies where other users could claim "
                    "its name once this process exits; children keep their own trust"
                )
                return
            values = {"SSL_CERT_DIR": private.real_path}
        for name, value in sorted(values.items()):
            if os.environ.get(name) is not None:
                self.note(f"export_env: {name} is already set; left as it is")
                continue
            os.environ[name] = value
            self._exported[name] = value
            self.note(f"export_env: {name}={value} for child processes")

    # -- what load_verify_locations hands to the decision --------------------------------------

    def means_the_decision(self, cafile: Any, capath: Any) -> bool:
        """True when ``load_verify_locations(cafile, capath)`` asks for what the decision replaces.

        That is certifi's bundle (any copy), or exactly the paths in $SSL_CERT_FILE and/or
        $SSL_CERT_DIR, which a client that reads them itself (httpx with trust_env) passes on:
        the decision honours them (strictly, when "env" is in the trust order) and adds the extra
        CAs. A missing file then fails the handshake, as OpenSSL's own reading of them does,
        instead of raising at context creation.
        """
        if cafile is None and capath is None:
            return False
        if capath is None and self.is_certifi_path(cafile):
            return True
        from . import _sources

        asked = [(n, v) for n, v in zip(_sources.ENV_VARS, (cafile, capath)) if v is not None]
        for name, value in asked:
            try:
                if os.fsdecode(value) != os.environ.get(name):
                    return False
            except TypeError:
                return False
        where = " and ".join(f"${name} ({value!r})" for name, value in asked)
        self.note_once(f"a context asked for {where}: it gets the decision")
        return True


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
