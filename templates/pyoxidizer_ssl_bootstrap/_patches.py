"""The patches that make each client follow the decision: ssl, certifi, multiprocessing.spawn.

``PatchingLoader`` wraps the real loader of a module the import hook matched, so the module is
patched right after it has run; ``patch()`` does the same for a module imported before
install(). Each patch is applied once and keeps the patched function's documentation.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    import ssl as ssl_module
    from types import ModuleType
    from typing import Any

    from ._state import State


def patch(state: State, module: ModuleType) -> None:
    """Patch ssl, certifi or multiprocessing.spawn (once) so they follow the decision."""
    try:
        if module.__name__ == "ssl":
            _patch_ssl(state, module)
        elif module.__name__ == "certifi":
            _patch_certifi(state, module)
        elif module.__name__ == "multiprocessing.spawn":
            _patch_spawn(state, module)
    except Exception as exc:
        state.note(f"patching {module} failed ({exc!r}); it keeps its stock behaviour")


def _patch_ssl(state: State, ssl: ModuleType) -> None:
    cls = ssl.SSLContext
    if cls.__dict__.get("_pyoxidizer_ssl"):
        return
    base_default = cls.set_default_verify_paths
    base_load = cls.load_verify_locations

    def set_default_verify_paths(self: ssl_module.SSLContext) -> None:
        state.apply(self, base_default, base_load)

    def load_verify_locations(
        self: ssl_module.SSLContext, cafile: Any = None, capath: Any = None, cadata: Any = None
    ) -> None:
        if capath is None and cadata is None and state.is_certifi_path(cafile):
            state.apply(self, base_default, base_load)
            return None
        return base_load(self, cafile, capath, cadata)  # type: ignore[no-any-return]

    set_default_verify_paths.__doc__ = base_default.__doc__
    load_verify_locations.__doc__ = base_load.__doc__
    cls.set_default_verify_paths = set_default_verify_paths
    cls.load_verify_locations = load_verify_locations
    cls._pyoxidizer_ssl = True
    state.note(
        "ssl patched: default trust and certifi's bundle now follow the decision "
        "(contexts made before this are unchanged)"
    )
    if "truststore" in state.trust and state.decision().source == "truststore":
        import truststore

        truststore.inject_into_ssl()
        state.note("truststore injected into ssl")


def _patch_certifi(state: State, certifi: ModuleType) -> None:
    original = getattr(certifi, "where", None)
    if original is None or getattr(original, "_pyoxidizer_ssl", False):
        return
    known = getattr(getattr(certifi, "core", None), "_CACERT_PATH", None)
    if known:
        state.certifi_paths.add(os.fsdecode(known))

    def where() -> str:
        try:
            path = original()
        except Exception as exc:
            path = state.certifi_copy(exc)
        state.certifi_paths.add(os.fsdecode(path))
        return path  # type: ignore[no-any-return]

    where.__doc__ = original.__doc__
    where._pyoxidizer_ssl = True  # type: ignore[attr-defined]
    certifi.where = where  # type: ignore[attr-defined]
    state.note("certifi patched: a context loading certifi.where() gets the decision")


def _patch_spawn(state: State, spawn: ModuleType) -> None:
    original = spawn.get_preparation_data
    if getattr(original, "_pyoxidizer_ssl", False):
        return

    def get_preparation_data(name: str) -> dict[str, Any]:
        data: dict[str, Any] = original(name)
        data["pyoxidizer_ssl"] = InstallInWorker()
        return data

    get_preparation_data._pyoxidizer_ssl = True  # type: ignore[attr-defined]
    get_preparation_data.__doc__ = original.__doc__
    spawn.get_preparation_data = get_preparation_data  # type: ignore[attr-defined]
    state.note("multiprocessing.spawn patched: spawn workers run install() too")


class PatchingLoader:
    """Runs the real loader, puts it back on the module, then applies our patch."""

    def __init__(self, loader: Any, state: State) -> None:
        self._loader = loader
        self._state = state

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> Any:
        create = getattr(self._loader, "create_module", None)
        return None if create is None else create(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self._loader  # type: ignore[union-attr]
        self._loader.exec_module(module)
        patch(self._state, module)


# A spawn worker of a PyOxidizer binary runs multiprocessing's spawn_main, never the run target,
# so install() would not run there. Every worker unpickles the parent's preparation data before
# anything else; one extra entry whose unpickling calls install() carries the setup across.
# prepare() ignores keys it does not know. The import is guarded: a worker that cannot import
# this package (a plain interpreter with another sys.path) just goes on without it.
_IN_WORKER = """
try:
    __import__("pyoxidizer_ssl_bootstrap").install()
except Exception:
    pass
"""


class InstallInWorker:
    """Pickled into a spawn worker's preparation data; unpickling it runs install() there."""

    def __reduce__(self) -> tuple[Any, tuple[str, dict[str, Any]]]:
        return (exec, (_IN_WORKER, {}))
