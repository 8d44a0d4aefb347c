"""The one object the start-up module and the Report hold: a facade over the layers below.

Imported when ssl or certifi is first imported (or the Report is read), never at start-up. It
owns nothing of its own: the decision and its cache are ``_decision``'s, what each context loads
is ``_plan``'s, export to children ``_export``'s, and what the patched clients do ``_patches``'s.
Those modules import nothing from here, so each can be read and tested without the others above.
"""

from __future__ import annotations

from . import _decision, _patches, _plan

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from types import ModuleType
    from typing import Any, Callable

    from . import _sources


class State:
    """The process's trust: ``State(note, trust)``, made once by the start-up module."""

    def __init__(self, note: Callable[[str, str], None], trust: tuple[str, ...]) -> None:
        self.decisions = _decision.Decisions(note, trust)
        self.plans = _plan.Plans(self.decisions)
        self.policy = _patches.Policy(self.decisions, self.plans)

    def decision(self) -> _sources.Decision:
        """Return the Decision, making it now if needed (the Report reads it)."""
        return self.decisions.decision()

    def location(self) -> tuple[str | None, str | None]:
        """Return (cafile, capath) that contexts load; capaths joined with os.pathsep."""
        return self.plans.current().location()

    def certificate_count(self) -> int | None:
        """How many certificates the private directory holds, when there is one."""
        return self.plans.current().count

    def patching_loader(self, loader: Any) -> _patches.PatchingLoader:
        """Wrap an import's loader so that the module is patched once it has run."""
        return _patches.PatchingLoader(loader, self.policy)

    def patch(self, module: ModuleType) -> None:
        """Patch a module imported before install() (ssl, certifi or a copy, spawn, grpc)."""
        _patches.patch(self.policy, module)

    def export_env(self) -> None:
        """Point SSL_CERT_FILE/SSL_CERT_DIR at the decision for child processes (export_env)."""
        from . import _export

        _export.export_env(self.decisions, self.plans)
