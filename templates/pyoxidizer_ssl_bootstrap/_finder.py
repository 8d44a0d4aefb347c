"""What the import hook needs only some of the time, kept out of the start-up module.

``patching()`` runs when a module we patch is about to load; ``patch_imported()`` when
install() finds some already imported (an app that calls it late); ``insert_finder()`` where
importlib's ``_find_spec`` is not one the package knows how to take over: a finder first in
``sys.meta_path`` then does the same job, at ~7 K instructions for every later import.

The start-up module hands each function what it needs (which names are ours, the trace, the
trust state): this module imports nothing of the package, so imports point one way.
"""

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from importlib.machinery import ModuleSpec
    from typing import Callable, Optional

    from ._state import State

    Note = Callable[[str, str], None]
    TrustState = Callable[[], Optional[State]]
    Ours = Callable[[str], bool]

# TLS clients that may build a context (or grpc credentials) before the first request: at import
# (aiohttp, tornado.netutil) or with a client, session or pool object. If one is already imported
# when install() runs, what it made keeps stock trust, so the trace names it. Each imports ssl,
# so none can be imported unless a module we patch is.
EARLY_CLIENTS = (
    "aiohttp",
    "tornado.netutil",
    "httpx",
    "requests",
    "urllib3",
    "pip._vendor.requests",
    "botocore",
    "httplib2",
    "websocket",
    "websockets",
    "grpc",
)


def patching(
    name: str, spec: "Optional[ModuleSpec]", trust_state: "TrustState"
) -> "Optional[ModuleSpec]":
    """``spec`` of a module we patch, with a loader that patches it once it has run."""
    if spec is None or getattr(sys.modules.get(name), "__spec__", None) is spec:
        return spec  # not found, or the spec of a module already loaded
    state = trust_state()
    if state is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
        spec.loader = state.patching_loader(spec.loader)  # type: ignore[assignment]  # duck-typed
    return spec


def patch_imported(ours: "Ours", note: "Note", trust_state: "TrustState") -> None:
    """Patch the modules we patch that were imported before install(); name early clients."""
    for name in list(sys.modules):
        if ours(name):
            note("start.patch_imported", f"{name} was imported before install(); patching it now")
            state = trust_state()
            if state is not None:
                state.patch(sys.modules[name])
    early = [name for name in EARLY_CLIENTS if name in sys.modules]
    if early:
        note(
            "start.early_clients",
            f"imported before install(): {', '.join(early)}; SSL contexts they already made "
            "keep stock trust (call install() before importing TLS clients)",
        )


def insert_finder(ours: "Ours", note: "Note", trust_state: "TrustState") -> None:
    """Put a finder first in sys.meta_path: for a module we patch, it lets the real finder find
    it, then has it patched; None for every other module."""

    def find_spec(name: str, path: object = None, target: object = None) -> "Optional[ModuleSpec]":
        if not ours(name):
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is hook or find is None:
                continue
            spec: Optional[ModuleSpec] = find(name, path, target)
            if spec is not None:
                return patching(name, spec, trust_state)
        return None

    # A meta-path finder is anything with find_spec. sys.implementation is a
    # types.SimpleNamespace: taking its type avoids importing types and defining a class.
    hook = type(sys.implementation)(find_spec=find_spec)  # type: ignore[call-arg]
    sys.meta_path.insert(0, hook)
    note(
        "start.hook",
        "import hook: a finder first in sys.meta_path (importlib's _find_spec is not one we know)",
    )
