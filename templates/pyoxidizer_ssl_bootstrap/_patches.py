"""The patches that make each client follow the decision: ssl, certifi, multiprocessing.spawn.

certifi means every copy of it: ``certifi`` and any vendored ``<package>._vendor.certifi`` (pip's
requests loads ``pip._vendor.certifi.where()``), matched by module name, since in memory
``where()`` is a temporary file whose path says nothing. grpc is patched in ``_grpc``.

``Policy`` is what the patched methods ask: which ``load_verify_locations`` calls mean the
decision (certifi's bundle, the paths in SSL_CERT_FILE/SSL_CERT_DIR), how a context gets the
plan, and the private copy of certifi's bundle where ``where()`` fails. ``PatchingLoader`` wraps
the real loader of a module the import hook matched, so the module is patched right after it has
run; ``patch()`` does the same for a module imported before install(). Each patch is applied once
and keeps the patched function's documentation.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    import ssl as ssl_module
    from types import ModuleType
    from typing import Any, Callable

    from . import _sources
    from ._plan import Plan

    Note = Callable[[str, str], None]


# pip._vendor.certifi and every copy vendored that way. The start-up module's import hook matches
# the same suffix (its _VENDORED_CERTIFI) before anything else loads; a test keeps them equal.
VENDORED_CERTIFI = "._vendor.certifi"
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


class Policy:
    """What the patched ssl and certifi ask: does this load mean the decision, and load it."""

    def __init__(
        self,
        note: Note,
        note_once: Note,
        trust: tuple[str, ...],
        decision: Callable[[], _sources.Decision],
        plan: Callable[[], Plan],
    ) -> None:
        self.note = note
        self.note_once = note_once  # for what may happen at every context: traced once
        self.trust = trust
        self.decision = decision  # the process's decision (made at the first call)
        self.plan = plan  # what each context loads (built at the first call)
        self.certifi_paths: set[str] = set()  # what the patched where() gave out

    def apply(
        self, ctx: Any, base_default: Callable[..., Any], base_load: Callable[..., Any]
    ) -> None:
        """Load this process's trust into ``ctx``; on any fault fall back to stock defaults."""
        note_once = self.note_once
        try:
            plan = self.plan()
        except Exception as exc:
            note_once(
                "patches.plan_failed",
                f"building the trust plan failed ({exc!r}); using OpenSSL defaults",
            )
            base_default(ctx)
            return
        plan.load_into(ctx, base_default, base_load, note_once)

    def is_certifi_path(self, cafile: Any) -> bool:
        """True for a path that certifi or a vendored copy gave out (``where()``)."""
        if cafile is None:
            return False
        try:
            path = os.fsdecode(cafile)
        except TypeError:
            return False
        return path in self.certifi_paths or path in certifi_cached_paths()

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
        self.note_once("patches.env_path", f"a context asked for {where}: it gets the decision")
        return True

    def certifi_copy(self, error: Exception) -> str:
        """certifi.where() failed under this importer: give it a private copy of the bundle."""
        from . import _cleanup, _private_dir, _sources

        data = _sources.certifi_bundle(self.note)
        if not data:
            raise error
        private = _private_dir.create([("cacert.pem", data)], self.note, _cleanup.CERTIFI_PREFIX)
        if private is None:
            raise error
        path = os.path.join(private.path, "cacert.pem")
        self.note(
            "patches.certifi_copy",
            f"certifi.where() failed ({error!r}); serving a private copy {path!r}",
        )
        return path


def patch(policy: Policy, module: ModuleType) -> None:
    """Patch ssl, certifi (or a copy), multiprocessing.spawn or grpc (once) for the decision."""
    try:
        if module.__name__ == "ssl":
            _patch_ssl(policy, module)
        elif is_certifi(module.__name__):
            _patch_certifi(policy, module)
        elif module.__name__ == "multiprocessing.spawn":
            _patch_spawn(policy, module)
        elif module.__name__ == "grpc":
            from . import _grpc

            _grpc.patch(module, policy.decision, policy.note, policy.note_once)
    except Exception as exc:
        policy.note(
            "patches.failed", f"patching {module} failed ({exc!r}); it keeps its stock behaviour"
        )


def _patch_ssl(policy: Policy, ssl: ModuleType) -> None:
    cls = ssl.SSLContext
    if cls.__dict__.get("_pyoxidizer_ssl"):
        return
    base_default = cls.set_default_verify_paths
    base_load = cls.load_verify_locations

    # Positional-only self, as in the C methods they replace (stock signatures).
    def set_default_verify_paths(self: ssl_module.SSLContext, /) -> None:
        policy.apply(self, base_default, base_load)

    def load_verify_locations(
        self: ssl_module.SSLContext,
        /,
        cafile: Any = None,
        capath: Any = None,
        cadata: Any = None,
    ) -> None:
        if cadata is None and policy.means_the_decision(cafile, capath):
            policy.apply(self, base_default, base_load)
            return None
        return base_load(self, cafile, capath, cadata)  # type: ignore[no-any-return]

    set_default_verify_paths.__doc__ = base_default.__doc__
    load_verify_locations.__doc__ = base_load.__doc__
    set_default_verify_paths.__annotations__ = {}  # inspect.signature() shows stock's
    load_verify_locations.__annotations__ = {}
    cls.set_default_verify_paths = set_default_verify_paths
    cls.load_verify_locations = load_verify_locations
    cls._pyoxidizer_ssl = True
    policy.note(
        "patches.ssl",
        "ssl patched: default trust, certifi's bundle and the paths in SSL_CERT_FILE/"
        "SSL_CERT_DIR now follow the decision (contexts made before this are unchanged)",
    )
    if "truststore" in policy.trust and policy.decision().source == "truststore":
        import truststore

        truststore.inject_into_ssl()
        policy.note("patches.truststore", "truststore injected into ssl")


def _patch_certifi(policy: Policy, certifi: ModuleType) -> None:
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
            path = policy.certifi_copy(exc)
        policy.certifi_paths.add(os.fsdecode(path))
        return path  # type: ignore[no-any-return]

    where.__doc__ = original.__doc__
    where._pyoxidizer_ssl = True  # type: ignore[attr-defined]
    certifi.where = where  # type: ignore[attr-defined]
    name = certifi.__name__
    policy.note(
        "patches.certifi", f"{name} patched: a context loading {name}.where() gets the decision"
    )


def _patch_spawn(policy: Policy, spawn: ModuleType) -> None:
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
    policy.note("patches.spawn", "multiprocessing.spawn patched: spawn workers run install() too")


class PatchingLoader:
    """Runs the real loader, puts it back on the module, then applies our patch."""

    def __init__(self, loader: Any, policy: Policy) -> None:
        self._loader = loader
        self._policy = policy

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
        patch(self._policy, module)


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
