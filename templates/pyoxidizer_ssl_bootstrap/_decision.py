"""The process's trust decision, made once and kept: the cache and the lock that guards it.

Loaded when ssl or certifi is first imported; the sources it asks (``_sources``) load only when
the decision is first needed, at the first TLS context. The decision is made again only when
the app changes SSL_CERT_FILE/SSL_CERT_DIR afterwards (with "env" in the trust order).
"""

from __future__ import annotations

import _thread

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from typing import Callable

    from . import _sources


class Decisions:
    """The decision cache: ``decision()`` makes it once, under a lock, and returns it after."""

    def __init__(self, note: Callable[[str, str], None], trust: tuple[str, ...]) -> None:
        self.note = note
        self.trust = trust
        # What export_env set for children: read back, it is not the user's own setting.
        self.exported: dict[str, str] = {}
        self._lock = _thread.RLock()  # type: ignore[attr-defined]  # real, not in typeshed
        self._decision: _sources.Decision | None = None
        self._env: _sources.EnvSetting = (None, None)
        self._noted: set[str] = set()

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
