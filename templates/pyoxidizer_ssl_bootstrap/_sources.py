"""Where trust can come from: one function per source, tried in the order of TRUST.

``SOURCES`` maps each name a config may list to the function that tries it; ``decide()`` walks
them. A function returns a Decision, or None to let the next source try. Every file it looks at
and every reason it skips one goes to the trace.

"env" is strict: once SSL_CERT_FILE or SSL_CERT_DIR is set (even to ""), the decision is env,
usable or not, and no fault of any kind (a missing file, MemoryError) moves it to another source.
"""

from __future__ import annotations

import os
import stat
import sys

from . import _platform

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from importlib.machinery import ModuleSpec
    from typing import Callable, Optional, Tuple

    Note = Callable[[str, str], None]
    EnvSetting = Tuple[Optional[str], Optional[str]]

ENV_VARS = ("SSL_CERT_FILE", "SSL_CERT_DIR")
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
# ``_x509``'s certificate labels: the two helpers below repeat its own (tested to agree), so
# that a decision that parses nothing (a cache hit, a hashed directory) never imports it.
_CERT_MARKERS = (
    b"-----BEGIN CERTIFICATE-----",
    b"-----BEGIN TRUSTED CERTIFICATE-----",
    b"-----BEGIN X509 CERTIFICATE-----",
)


def holds_certificates(data: bytes) -> bool:
    """Whether a PEM text claims any certificate block, as ``_x509`` would count one.

    Stops at the first: a bundle is read on every run, a cache hit included, and the count
    itself is said later by whatever parses or publishes the bundle.
    """
    return any(marker in data for marker in _CERT_MARKERS)


def is_hash_name(name: str) -> bool:
    """An OpenSSL hashed-directory entry name (XXXXXXXX.N), as ``_x509`` says."""
    suffix = name[9:]
    return (
        name[8:9] == "."
        and not name[:8].strip("0123456789abcdef")
        and suffix.isdigit()
        and suffix.isascii()
    )


class Decision:
    """One trust source: bundle files (path, bytes), hashed directories, or the native store."""

    def __init__(
        self,
        source: str | None,
        origin: str | None,
        files: list[tuple[str | None, bytes | None]] | None = None,
        dirs: list[str] | None = None,
        native: bool = False,
        certifi: bool = False,
        stats: list[os.stat_result | None] | None = None,
    ) -> None:
        self.source = source
        self.files = files or []
        # The fstat of each file as it was read (None: not read from a file, e.g. certifi in
        # memory), beside ``files``: lets the between-runs cache know an unchanged bundle.
        self.stats = stats or [None] * len(self.files)
        self.dirs = dirs or []
        # False only for a strict env setting that points at nothing usable.
        self.usable = bool(source) and (source != "env" or bool(self.files or self.dirs))
        self.origin = origin
        self.native = native
        self.certifi = certifi


def read_env(exported: dict[str, str], note: Note) -> EnvSetting:
    """Return (SSL_CERT_FILE, SSL_CERT_DIR) as set by whoever started us; None where unset.

    "" counts as set, as it does for OpenSSL (it then names no usable file). Our own export_env
    values are not the user's setting. A setuid/setgid process ignores both, as OpenSSL does.
    """
    values = [os.environ.get(name) for name in ENV_VARS]
    if any(v is not None for v in values) and not _platform.env_is_trusted():
        note(
            "sources.env.setuid_ignored",
            "env: running setuid/setgid: SSL_CERT_FILE/SSL_CERT_DIR ignored, as OpenSSL does",
        )
        return (None, None)
    return (
        None if values[0] is None or values[0] == exported.get(ENV_VARS[0]) else values[0],
        None if values[1] is None or values[1] == exported.get(ENV_VARS[1]) else values[1],
    )


def read_bundle(
    path: str,
    label: str,
    note: Note,
    opened: str | None = None,
    stats: list[os.stat_result | None] | None = None,
) -> bytes | None:
    """Return a file's bytes if it holds PEM certificates; trace why not otherwise.

    Read by the file's real size (a regular file of at most MAX_BUNDLE_BYTES), never into a fixed
    big buffer. Only OSError is handled here: anything else is the caller's to treat strictly.
    ``opened``: the path actually opened (the real path that was checked), named as ``path``.
    ``stats``: given a list, the fstat of the descriptor read is appended to it (taken before
    the read, so that a change during the read moves its ctime past what was recorded).
    """
    try:
        if os.path.isdir(opened or path):
            note(
                f"sources.{label.split(':')[0]}.file.directory",
                f"{label} {path!r}: a directory, not a bundle file; skipped",
            )
            return None
        with open(opened or path, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                note(
                    f"sources.{label.split(':')[0]}.file.not_regular",
                    f"{label} {path!r}: not a regular file; skipped",
                )
                return None
            if info.st_size > MAX_BUNDLE_BYTES:
                note(
                    f"sources.{label.split(':')[0]}.file.too_big",
                    f"{label} {path!r}: over {MAX_BUNDLE_BYTES} bytes; skipped",
                )
                return None
            data = f.read(info.st_size)
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        note(
            f"sources.{label.split(':')[0]}.file.unreadable", f"{label} {path!r}: {reason}; skipped"
        )
        return None
    if not holds_certificates(data):
        what = "empty" if not data.strip() else "no PEM certificates in it"
        note(
            f"sources.{label.split(':')[0]}.file.no_certificates",
            f"{label} {path!r}: {what}; skipped",
        )
        return None
    note(
        f"sources.{label.split(':')[0]}.file.found",
        f"{label} {path!r}: PEM certificates, {len(data)} bytes",
    )
    if stats is not None:
        stats.append(info)
    return data


def others_can_change(path: str, real: str | None = None) -> bool:
    """True when a user other than us and root could replace ``path`` or anything above it.

    Both the path as written (a link on it belongs to whoever may re-point it) and where its
    links lead (what is read). A sticky parent (/tmp) is fine: only an entry's owner may rename
    or remove it there. Used for stores OpenSSL itself would not read (the distro candidates)
    and for a certifi found on disk. ``real``: the real path already resolved, to be read after
    (a link met half-way, on neither path, could be re-pointed between two resolutions).
    """
    written = os.path.abspath(path)
    real = real or os.path.realpath(path)
    # One walk where no link is on the way (the two paths are the same): same answer.
    return any(
        _platform.chain_open_to_others(where, _platform.STORE)
        for where in ((written,) if real == written else (written, real))
    )


def _changeable(path: str, label: str, note: Note, real: str | None = None) -> bool:
    if others_can_change(path, real):
        note(
            f"sources.{label.split(':')[0]}.changeable",
            f"{label} {path!r}: another user could change it; skipped",
        )
        return True
    return False


def _absent(path: str, label: str, kind: str, note: Note) -> bool:
    """True, traced as reading it would be, when no ``path`` is there: one lstat instead of
    resolving and walking the path of a store that is missing, as most candidates are on any
    host (~16 of them: ~0.4 ms). Only a missing name: anything else takes the full checks, and
    one that appears after this lstat is only not used by this process."""
    try:
        os.lstat(path)
    except FileNotFoundError as exc:
        note(
            f"sources.{label.split(':')[0]}.{kind}.unreadable",
            f"{label} {path!r}: {exc.strerror}; skipped",
        )
        return True
    return False


def hashed_dir(path: str, label: str, note: Note) -> int:
    """Return the number of hashed entries if ``path`` is a usable OpenSSL directory, else 0."""
    try:
        names = [n for n in os.listdir(path) if is_hash_name(n)]
    except OSError as exc:
        note(
            f"sources.{label.split(':')[0]}.dir.unreadable",
            f"{label} {path!r}: {exc.strerror or exc}; skipped",
        )
        return 0
    if not any(os.path.isfile(os.path.join(path, n)) for n in names):
        what = "dangling hashed links" if names else "no XXXXXXXX.N hashed certificates"
        note(
            f"sources.{label.split(':')[0]}.dir.no_certificates",
            f"{label} {path!r}: {what}; skipped",
        )
        return 0
    note(
        f"sources.{label.split(':')[0]}.dir.found",
        f"{label} {path!r}: {len(names)} hashed certificates",
    )
    return len(names)


def _refusal(check: Callable[..., str | None], *args: object) -> str | None:
    """What ``check(*args)`` refuses for, with an error it raises counted as a refusal."""
    try:
        return check(*args)
    except OSError as exc:
        return exc.strerror or exc.__class__.__name__
    except (ValueError, NotImplementedError) as exc:  # no dir_fd: an OS we do not know
        return str(exc) or exc.__class__.__name__


def _entries_changeable(path: str, note: Note) -> bool:
    """True (and a trace line) when another user could change any XXXXXXXX.N entry of ``path``.

    A candidate directory is given to contexts as a capath, read lazily: every hashed entry it
    holds is trusted, so each must pass what the directory passed (round 3: an entry another
    user owned was trusted). Each link on the way, however deep (its owner, and every directory
    it is in or leads through: ``_store_dir.way_open_to_others``), and the file itself, opened
    through the directory's descriptor and checked by ``fstat`` (owner, mode; what OpenSSL will
    open, not a name checked before).
    """
    if not _platform.POSIX_OWNERS:
        return False
    from . import _store_dir  # only where a candidate directory holds hashed entries

    why = _refusal(_store_dir.entry_open_to_others, path, is_hash_name)
    if why:
        note(
            "sources.system.entry_changeable",
            f"system: candidate dir {path!r}: {why}; another user could change it; skipped",
        )
        return True
    return False


def hashed_copy(
    bundle: str,
    data: bytes,
    note: Note,
    real: str | None = None,
    read: os.stat_result | None = None,
) -> str | None:
    """Return the distro's hashed directory of exactly ``bundle``'s certificates, or None.

    Fedora 37+ and RHEL 9 write one beside their bundle (``_platform.CA_HASHED_DIRS``): given to
    contexts as a capath it is read lazily, as our own split directory would be, and nothing is
    split, hashed or written at run time. Used only under the rules for every store we read
    (nothing another user could change: the directory and everything above it, each entry, each
    link) and only when it is a faithful copy of the bundle: every XXXXXXXX.N entry is a file in
    the directory or a link to one, numbered from .0 without gaps, and together they hold the
    bundle's certificates, no more, no fewer (their base64 text compared, without decoding); one
    entry's name is checked against its subject hash (a directory hashed by another algorithm).
    Stale, partial, planted or foreign-owned: None, and the trace says why. ``real``: the
    bundle's real path, when the caller resolved it already; ``read``: the fstat taken as
    ``data`` was read (``read_bundle``), which a kept verdict is keyed by (the bundle is then not
    read again to tie its identity to the bytes checked). A directory that is not there is
    not walked (nothing of it can be used either way). The content check's verdict is kept
    between runs and used while nothing it read has changed (``_verdicts.check``); the
    ownership walk above the directory runs at every run.

    The directory is resolved once, and that real path is what is walked (with the path as
    written), checked, keyed in a kept verdict, returned and so given to contexts and
    exported (round 4: a link met half-way, on neither path, was followed again by OpenSSL at
    each handshake after another user re-pointed it, as round 3 found for a bundle).
    """
    real = real or os.path.realpath(bundle)
    written = _platform.CA_HASHED_DIRS.get(real)
    if written is None or not _platform.POSIX_OWNERS:
        return None
    label = "system: hashed directory"
    try:
        os.lstat(written)
    except OSError as exc:
        note(
            "sources.system.hashed_dir.refused",
            f"{label} {written!r}: {exc.strerror or exc}; splitting {bundle!r} instead",
        )
        return None
    directory = os.path.realpath(written)  # resolved once: no link on it is followed again
    if _changeable(written, label, note, directory):
        return None
    if directory != written:
        note(
            "sources.system.hashed_dir.resolved",
            f"{label} {written!r}: a link; its real path {directory!r} is what is checked and used",
        )
    from . import _verdicts  # only on a host whose bundle has one

    reason = _refusal(_verdicts.check, directory, real, data, note, read)
    if reason:
        note(
            "sources.system.hashed_dir.refused",
            f"{label} {directory!r}: {reason}; splitting {bundle!r} instead",
        )
        return None
    note(
        "sources.system.hashed_dir.used",
        f"{label} {directory!r}: the same certificates as {bundle!r}; used as it is",
    )
    return directory


def _env_origin(setting: EnvSetting) -> str:
    return " ".join(f"{n}={v}" for n, v in zip(ENV_VARS, setting) if v is not None)


def env(setting: EnvSetting, note: Note) -> Decision | None:
    """SSL_CERT_FILE / SSL_CERT_DIR exactly as set; None only when neither is set."""
    cafile, capath = setting
    if cafile is None and capath is None:
        note("sources.env.unset", "env: SSL_CERT_FILE and SSL_CERT_DIR are not set")
        return None
    files: list[tuple[str | None, bytes | None]] = []
    dirs = []
    if cafile is not None and read_bundle(cafile, "env: SSL_CERT_FILE", note):
        files.append((cafile, None))
    for path in (capath or "").split(os.pathsep):
        if path and hashed_dir(path, "env: SSL_CERT_DIR", note):
            dirs.append(path)
    chosen = [("SSL_CERT_FILE", f) for f, _ in files] + [("SSL_CERT_DIR", d) for d in dirs]
    for name, where in chosen:
        _operator_chose(where, name, note)
    if not files and not dirs:
        note(
            "sources.env.unusable",
            "env: nothing usable; an explicit SSL_CERT_FILE/SSL_CERT_DIR is never widened "
            "to other sources, so only extra CAs are trusted (TLS will fail otherwise)",
        )
    return Decision("env", _env_origin(setting), files, dirs)


def _operator_chose(path: str | None, name: str, note: Note) -> None:
    """Say so when another user could change what $name names; it is still used as set.

    Whoever starts the process chose that location, as with stock OpenSSL and as with a
    client's own REQUESTS_CA_BUNDLE: refusing it would not be "exactly this". The trace makes
    the choice visible (round 3: a path through another user's writable directory).
    """
    if path is not None and _platform.POSIX_OWNERS and others_can_change(path):
        note(
            "sources.env.changeable",
            f"env: {name} {path!r}: another user could change it; used as set, since "
            "whoever started this process chose it",
        )


def system(setting: EnvSetting, note: Note) -> Decision | None:
    """OpenSSL's compiled-in paths if they hold certificates, else the first known distro store."""
    if _platform.NATIVE_STORE:
        note("sources.system.native", "system: the operating system's certificate store")
        return Decision("system", "the operating system's certificate store", native=True)
    import _ssl

    _, default_file, _, default_dir = _ssl.get_default_verify_paths()
    stats: list[os.stat_result | None] = []
    data = read_bundle(default_file, "system: OpenSSL default file", note, stats=stats)
    copy = hashed_copy(default_file, data, note, None, stats[0]) if data else None
    files: list[tuple[str | None, bytes | None]] = (
        [(default_file, data)] if data and not copy else []
    )
    found = hashed_dir(default_dir, "system: OpenSSL default dir", note)
    dirs = [path for path in (copy, default_dir if found else None) if path]
    if files or dirs:
        origin = " + ".join([default_file] * len(files) + dirs)
        return Decision("system", origin, files, dirs, stats=stats[: len(files)])
    # Stores OpenSSL itself would not read: only where no other user can have put them.
    # Each is read, and given to contexts that load it per context, by the real path that was
    # checked: no link on the way is followed again (round 3: one met half-way, on neither the
    # path as written nor where it led, was never checked, and contexts re-opened the name).
    for path in _platform.CA_FILES:
        if path == default_file or _absent(path, "system: candidate", "file", note):
            continue
        real = os.path.realpath(path)
        if not _changeable(path, "system: candidate", note, real):
            stats = []
            data = read_bundle(path, "system: candidate", note, real, stats)
            copy = hashed_copy(path, data, note, real, stats[-1]) if data else None
            if copy:
                return Decision("system", copy, dirs=[copy])
            if data:
                return Decision("system", path, [(real, data)], stats=stats)
    # A directory the same way (round 4: contexts were given the name, and a link met
    # half-way was followed again at each handshake).
    label = "system: candidate dir"
    for path in _platform.CA_DIRS:
        usable = path != default_dir and not _absent(path, label, "dir", note)
        real = os.path.realpath(path) if usable else path
        usable = usable and not _changeable(path, label, note, real)
        if usable and hashed_dir(real, label, note) and not _entries_changeable(real, note):
            return Decision("system", path, dirs=[real])
    note("sources.system.none", "system: no certificate store found on this host")
    return None


def certifi(setting: EnvSetting, note: Note) -> Decision | None:
    """The Mozilla bundle embedded in the binary with certifi."""
    data = certifi_bundle(note)
    if not data:
        note("sources.certifi.missing", "certifi: the embedded bundle was not found")
        return None
    note("sources.certifi.found", f"certifi: the embedded bundle, {len(data)} bytes")
    return Decision("certifi", "certifi (embedded)", [(None, data)], certifi=True)


def truststore(setting: EnvSetting, note: Note) -> Decision | None:
    """The OS verifier through the truststore package (Python 3.10+), when it is embedded."""
    if sys.version_info < (3, 10):
        note("sources.truststore.python_too_old", "truststore: needs Python 3.10 or newer")
        return None
    if find_spec("truststore") is None:
        note("sources.truststore.missing", "truststore: not embedded in this binary")
        return None
    return Decision("truststore", "the OS verifier via truststore", native=True)


SOURCES: dict[str, Callable[[EnvSetting, Note], Decision | None]] = {
    "env": env,
    "system": system,
    "certifi": certifi,
    "truststore": truststore,
}


def decide(trust: tuple[str, ...], setting: EnvSetting, note: Note) -> Decision:
    """Try the sources in ``trust`` order; the first Decision wins (never raises)."""
    for name in trust:
        try:
            decision = SOURCES[name](setting, note)
        except Exception as exc:
            if name == "env":  # strict: a fault never widens trust to the next source
                note(
                    "sources.env.failed",
                    f"env: failed ({exc!r}); nothing trusted from it, no other source tried",
                )
                return Decision("env", _env_origin(setting))
            note(f"sources.{name}.failed", f"{name}: failed ({exc!r}); trying the next source")
            decision = None
        if decision is not None:
            note("decision.made", f"decision: {decision.source} ({decision.origin})")
            return decision
    note(
        "decision.none",
        "decision: no usable trust source; OpenSSL's compiled-in defaults stay in force "
        "and verification stays on",
    )
    return Decision(None, None, native=True)


def find_spec(name: str) -> ModuleSpec | None:
    """``importlib.util.find_spec`` for a top-level module, without importing importlib.util.

    That import (contextlib, importlib's ABCs: ~0.5 ms) would be paid at the first context on a
    host whose trust is certifi. The same steps: a module already imported gives its spec (a
    missing one is a ValueError); otherwise each finder on sys.meta_path in turn.
    """
    module = sys.modules.get(name)
    if module is not None:
        spec: ModuleSpec | None = getattr(module, "__spec__", None)
        if spec is None:
            raise ValueError(f"{name}.__spec__ is None")
        return spec
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if find is not None:
            spec = find(name, None)
            if spec is not None:
                return spec
    return None


def certifi_bundle(note: Note | None = None) -> bytes | None:
    """Return certifi's cacert.pem bytes wherever the binary put them, or None.

    certifi's code and data may each be in memory or in lib/ on disk. Tried in turn, each step's
    failure only moving to the next: a plain file beside the module (no import needed), the
    loader's get_data, then the package's resource reader (what PyOxidizer's importer serves,
    from memory or from files; on disk it would import importlib.resources, ~8 ms).
    """
    try:
        spec = find_spec("certifi")
    except (ImportError, ValueError):  # a broken or half-removed certifi: no bundle
        return None
    if spec is None or spec.loader is None:
        return None
    loader = spec.loader
    on_disk = bool(spec.origin and spec.has_location)
    here = os.path.dirname(spec.origin or "")
    real = os.path.realpath(here) if on_disk else here  # resolved once: checked, then read
    if on_disk and others_can_change(here, real):
        if note is not None:  # e.g. a certifi/ in a shared directory on sys.path
            note(
                "sources.certifi.changeable",
                f"certifi: {spec.origin!r}: another user could change it; not used",
            )
        return None
    attempts: list[tuple[str, Callable[[], bytes]]] = []
    if on_disk:
        path = os.path.join(real, "cacert.pem")
        try:
            data, changeable = _read_file(path)
        except (FileNotFoundError, NotADirectoryError):
            data, changeable = b"", None  # not a plain file here (in an archive): the readers
        except Exception as exc:  # the readers below would serve the same file, unchecked
            if note is not None:
                note(
                    "sources.certifi.read_failed",
                    f"certifi: {path!r}: {exc!r}; not read another way; not used",
                )
            return None
        if changeable:  # nor read another way: the readers would serve the same file
            if note is not None:
                note("sources.certifi.changeable", f"certifi: {path!r}: {changeable}; not used")
            return None
        if data:
            return data
        get_data = getattr(loader, "get_data", None)
        if get_data is not None:
            attempts.append(("loader.get_data", lambda: bytes(get_data(path))))
    get_reader = getattr(loader, "get_resource_reader", None)
    if get_reader is not None:
        attempts.append(("resource reader", lambda: _read_resource(get_reader)))
    for how, attempt in attempts:
        try:
            data = attempt()
        except Exception as exc:
            if note is not None:
                note(
                    "sources.certifi.read_failed", f"certifi: cacert.pem through the {how}: {exc!r}"
                )
            continue
        if data:
            return data
    return None


def _read_resource(get_reader: Callable[[str], object]) -> bytes:
    reader = get_reader("certifi")
    if reader is None:
        raise FileNotFoundError("no resource reader for certifi")
    with reader.open_resource("cacert.pem") as f:  # type: ignore[attr-defined]
        return bytes(f.read())


def _read_file(path: str) -> tuple[bytes, str | None]:
    """(certifi's cacert.pem on disk, None), or (b"", why another user could change the file).

    Its directory and everything above were checked by name; the file is checked by ``fstat``
    of the very descriptor read (round 3: a cacert.pem another user owned, or writable by
    others, in a safe directory was used). The refusal is returned, not raised as an exception
    class of its own: creating a class costs every first context that imports this module.
    """
    with open(path, "rb") as f:
        info = os.fstat(f.fileno())
        why = _platform.open_to_others(info, _platform.STORE)
        if why or not stat.S_ISREG(info.st_mode):
            return b"", why or "not a regular file"
        return f.read(info.st_size), None
