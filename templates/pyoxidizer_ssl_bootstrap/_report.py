"""The Report ``install()`` returns: what it did and decided, read on demand.

Loaded by ``install()`` only (the binary's start-up shim never builds a Report). Annotations are
strings, not ``from __future__ import annotations``: an app's install() would import __future__
for them (~0.25 ms from files).
"""

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from typing import Any, Callable, Dict, List, Tuple

    from ._sources import Decision
    from ._state import State


class Report:
    """What ``install()`` did and decided; ``trace`` lists every step in plain words.

    ``steps`` holds the same steps as (key, words): the key is stable, dotted and lower-case
    (``sources.env.file.unreadable``, ``decision.made``), for code and tests to match; the
    words may change between versions.

    ``source`` is "env", "system", "certifi" or "truststore" (None when nothing usable was found
    or the bootstrap is disabled). ``origin`` is where the certificates come from; ``cafile`` and
    ``capath`` are what each SSLContext loads. Reading any of them makes the decision now if the
    first TLS context has not made it yet.
    """

    def __init__(
        self,
        trace: "List[str]",
        disabled: bool,
        state: "Callable[[], State | None]",
        note: "Callable[[str, str], None]",
        steps: "List[Tuple[str, str]] | None" = None,
    ) -> None:
        self.trace = trace
        self.steps = steps if steps is not None else []
        self.disabled = disabled
        self._state = state
        self._note = note

    def note(self, message: str, key: str = "app.note") -> None:
        """Add a step to the trace (and print it when PYOXIDIZER_SSL_DEBUG is set)."""
        self._note(key, message)

    def state(self) -> "State | None":
        """Return the trust state (None when disabled)."""
        return self._state()

    def _decision(self) -> "Decision | None":
        state = self.state()
        return None if state is None else state.decision()

    @property
    def source(self) -> "str | None":
        decision = self._decision()
        return None if decision is None else decision.source

    @property
    def usable(self) -> bool:
        """True when the decision holds certificates to verify servers with."""
        decision = self._decision()
        return False if decision is None else decision.usable

    @property
    def origin(self) -> "str | None":
        decision = self._decision()
        return None if decision is None else decision.origin

    @property
    def cafile(self) -> "str | None":
        state = self.state()
        return None if state is None else state.location()[0]

    @property
    def capath(self) -> "str | None":
        state = self.state()
        return None if state is None else state.location()[1]

    @property
    def certificates(self) -> "int | None":
        """How many CA certificates the decision holds (extra CAs included), when countable."""
        state = self.state()
        return None if state is None else state.certificate_count()

    def as_dict(self) -> "Dict[str, Any]":
        """Return the report as plain data (for ``pyoxidizer-ssl doctor --json``)."""
        return {
            "source": self.source,
            "usable": self.usable,
            "origin": self.origin,
            "cafile": self.cafile,
            "capath": self.capath,
            "certificates": self.certificates,
            "disabled": self.disabled,
            "trace": list(self.trace),
            "steps": [{"key": key, "message": message} for key, message in self.steps],
        }

    def __repr__(self) -> str:
        if self.disabled:
            return "Report(disabled)"
        return f"Report(source={self.source!r}, origin={self.origin!r})"
