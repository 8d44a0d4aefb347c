"""The patches that make each client follow the decision: ssl, certifi, multiprocessing.spawn.

certifi means every copy of it: ``certifi`` and any vendored ``<package>._vendor.certifi`` (pip's
requests loads ``pip._vendor.certifi.where()``), matched by module name, since in memory
``where()`` is a temporary file whose path says nothing. grpc is patched in ``_grpc``.

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


VENDORED_CERTIFI = "._vendor.certifi"  # pip._vendor.certifi and every copy vendored that way
# The core module of each certifi copy patched: a copy imported before install() may have handed
# its original where() out already (pip's requests binds it at import), so the path that where()
# cached (core._CACERT_PATH) counts as certifi's too.
CERTIFI_CORES: list[ModuleType] = []


def is_certifi(name: str) -> bool:
    """True for certifi and its vendored copies (``<package>._vendor.certifi``)."""
    return name == "certifi" or name.endswith(VENDORED_CERTIFI)


def certifi_cached_paths() -> set[str]:
    """The paths the patched certifi copies' own where() cached so far."""
    paths = set()
    for core in CERTIFI_CORES:
        cached = getattr(core, "_CACERT_PATH", None)
        if isinstance(cached, (str, bytes)):
            paths.add(os.fsdecode(cached))
    return paths


def patch(state: State, module: ModuleType) -> None:
    """Patch ssl, certifi (or a copy), multiprocessing.spawn or grpc (once) for the decision."""
    try:
        if module.__name__ == "ssl":
            _patch_ssl(state, module)
        elif is_certifi(module.__name__):
            _patch_certifi(state, module)
        elif module.__name__ == "multiprocessing.spawn":
            _patch_spawn(state, module)
        elif module.__name__ == "grpc":
            from . import _grpc

            _grpc.patch(state, module)
    except Exception as exc:
        state.note(f"patching {module} failed ({exc!r}); it keeps its stock behaviour")


def _patch_ssl(state: State, ssl: ModuleType) -> None:
    cls = ssl.SSLContext
    if cls.__dict__.get("_pyoxidizer_ssl"):
        return
    base_default = cls.set_default_verify_paths
    base_load = cls.load_verify_locations

    # Positional-only self, as in the C methods they replace (stock signatures).
    def set_default_verify_paths(self: ssl_module.SSLContext, /) -> None:
        state.apply(self, base_default, base_load)

    def load_verify_locations(
        self: ssl_module.SSLContext,
        /,
        cafile: Any = None,
        capath: Any = None,
        cadata: Any = None,
    ) -> None:
        if cadata is None and state.means_the_decision(cafile, capath):
            state.apply(self, base_default, base_load)
            return None
        return base_load(self, cafile, capath, cadata)  # type: ignore[no-any-return]

    set_default_verify_paths.__doc__ = base_default.__doc__
    load_verify_locations.__doc__ = base_load.__doc__
    set_default_verify_paths.__annotations__ = {}  # inspect.signature() shows stock's
    load_verify_locations.__annotations__ = {}
    cls.set_default_verify_paths = set_default_verify_paths
    cls.load_verify_locations = load_verify_locations
    cls._pyoxidizer_ssl = True
    state.note(
        "ssl patched: default trust, certifi's bundle and the paths in SSL_CERT_FILE/"
        "SSL_CERT_DIR now follow the decision (contexts made before this are unchanged)"
    )
    if "truststore" in state.trust and state.decision().source == "truststore":
        import truststore

        truststore.inject_into_ssl()
        state.note("truststore injected into ssl")


def _patch_certifi(state: State, certifi: ModuleType) -> None:
    original = getattr(certifi, "where", None)
    if original is None or getattr(original, "_pyoxidizer_ssl", False):
        return
    core = getattr(certifi, "core", None)
    if core is not None:  # where() may be bound elsewhere already: its cache is read at each load
        CERTIFI_CORES.append(core)

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
    name = certifi.__name__
    state.note(f"{name} patched: a context loading {name}.where() gets the decision")


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
