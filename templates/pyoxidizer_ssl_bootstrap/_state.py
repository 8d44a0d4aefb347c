"""The process's trust decision, made once and kept; the one object the start-up module holds.

Imported when ssl or certifi is first imported (or the Report is read), never at start-up.
``State`` keeps the decision cache and its lock, and decides nothing itself: the sources decide
(``_sources``, loaded at the first context), ``_plan`` turns the decision into what each context
loads, ``_export`` exports it to children, and ``_patches`` makes every client ask for it. Those
modules import nothing from here: they are handed the functions they need (``decision``,
``plan``, ``note``), so each can be read and tested without the layers above it.
"""

from __future__ import annotations

import _thread
import os

from . import _patches

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from types import ModuleType
    from typing import Any, Callable

    from . import _plan, _sources


class State:
    """The decision cache: ``decision()`` makes it once, under a lock, and returns it after.

    It is made again only when the app changes SSL_CERT_FILE/SSL_CERT_DIR afterwards (with
    "env" in the trust order). The other methods are what the start-up module and the Report
    call, handed on to the module that does each.
    """

    def __init__(self, note: Callable[[str, str], None], trust: tuple[str, ...]) -> None:
        self.note = note
        self.trust = trust
        # What export_env set for children: read back, it is not the user's own setting.
        self.exported: dict[str, str] = {}
        self._lock = _thread.RLock()  # type: ignore[attr-defined]  # real, not in typeshed
        if hasattr(os, "register_at_fork"):  # a child forked while another thread held it
            os.register_at_fork(after_in_child=self._fresh_lock)
        self._decision: _sources.Decision | None = None
        self._env: _sources.EnvSetting = (None, None)
        self._noted: set[str] = set()
        self._plans: _plan.Plans | None = None  # made at the first context
        self.policy = _patches.Policy(note, self.note_once, trust, self.decision, self.plan)

    def _fresh_lock(self) -> None:
        """In a forked child: the threads that held our lock, or were importing a module (the
        first context imports lazily: ours, hashlib), do not exist here, so what they held
        would never be freed. A fresh lock; their import locks dropped and the modules they had
        half run imported again."""
        self._lock = _thread.RLock()  # type: ignore[attr-defined]
        if self._plans is not None:  # the plan's own lock, held while the directory is laid out
            self._plans._lock = _thread.RLock()  # type: ignore[attr-defined]
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

    def note_once(self, key: str, message: str) -> None:
        """Add a step to the trace unless the same step is there already (per-context faults)."""
        if message not in self._noted:
            self._noted.add(message)
            self.note(key, message)

    def decision(self) -> _sources.Decision:
        """Return the Decision, making it now if needed (or again if the app changed the env)."""
        decision = self._decision
        if decision is not None and ("env" not in self.trust or self._read_env() == self._env):
            return decision
        with self._lock:
            env = self._read_env()
            if self._decision is not None and env != self._env:
                self.note(
                    "decision.env_changed",
                    f"SSL_CERT_FILE/SSL_CERT_DIR changed to {env!r} after the decision; "
                    "deciding again",
                )
                self._decision = None
            if self._decision is None:
                from . import _sources

                self._env = env
                self._decision = _sources.decide(self.trust, env, self.note)
            return self._decision

    def _read_env(self) -> _sources.EnvSetting:
        # Imported here, not when ssl is: the sources load at the first context, not before.
        from . import _sources

        return _sources.read_env(self.exported, self.note_once)

    # -- handed on -------------------------------------------------------------------------

    def plan(self) -> _plan.Plan:
        """Return what each context loads now; ``_plan`` loads at the first call."""
        plans = self._plans
        if plans is None:
            from . import _plan

            with self._lock:
                plans = self._plans
                if plans is None:
                    plans = self._plans = _plan.Plans(self.decision, self.note)
        return plans.current()

    def location(self) -> tuple[str | None, str | None]:
        """Return (cafile, capath) that contexts load; capaths joined with os.pathsep."""
        return self.plan().location()

    def certificate_count(self) -> int | None:
        """How many certificates the private directory holds, when there is one."""
        return self.plan().count

    def patching_loader(self, loader: Any) -> _patches.PatchingLoader:
        """Wrap an import's loader so that the module is patched once it has run."""
        return _patches.PatchingLoader(loader, self.policy)

    def patch(self, module: ModuleType) -> None:
        """Patch a module imported before install() (ssl, certifi or a copy, spawn, grpc)."""
        _patches.patch(self.policy, module)

    def export_env(self) -> None:
        """Point SSL_CERT_FILE/SSL_CERT_DIR at the decision for child processes (export_env)."""
        from . import _export

        _export.export_env(self.decision(), self.plan, self.note, self.exported)
