"""A per-user cache of the hashed directory, kept between runs: the second run splits nothing.

Splitting a bundle into <subject-hash>.N files costs every run several ms. Here the split is
kept in ``$XDG_RUNTIME_DIR/pyoxidizer-ssl/``, else ``$XDG_CACHE_HOME/pyoxidizer-ssl/`` where
that is set, else (Linux) ``/dev/shm/pyoxidizer-ssl-UID/``, else ``~/.cache/pyoxidizer-ssl/``;
one entry per key, and a later run with the same key uses it as it is. Memory before the
default ``~/.cache``: where neither variable is set (containers, services) a miss on disk
costs 10-30 ms, in memory ~1. The promise of ``_private_dir`` is kept: no other local user,
and nothing an operator sets, can add a certificate to what a context looks into.

- The key (the entry's name) is BLAKE2b over everything that decides the content: this format,
  the bootstrap's version, the digest of every bundle that is split, whether one is certifi, and
  the extra CAs. Each entry's INDEX repeats the key, so an entry renamed to another key's name
  is refused.
- The cache directory is used only when every component of its path *as given* (lstat, not the
  real path) is a directory owned by us or root that no one else can write, sticky or not, and
  no component is a link (``_platform.EXPORTED``); it is ours alone, 0700 (``MINE``). Otherwise
  the trace says why and the private directory of ``_private_dir`` is made as before.
- ``/dev/shm/pyoxidizer-ssl-UID`` is the exception: /dev/shm is sticky and everyone's, so it
  must itself be root's (or ours) and no link, what is above it pass as above, and our
  directory in it be ours alone, 0700, no link (lstat, never followed), made by us if missing.
  The sticky bit keeps others from renaming or removing it; one who made the name first (ours
  to make, not theirs) only sends us on to ``~/.cache``. Not with export_env: a child's
  SSL_CERT_DIR must stay unclaimable after we exit, which no name in /dev/shm is.
- A bundle file unchanged since a run hashed it is known by its identity (``identity``: the
  fstat taken as it was read, ctime included, and the boot id), which ``IDENTITIES`` maps to
  its entry's name: no BLAKE2b of the bundle at such a hit. Anything different: hashed again.
  A bundle with no file of its own (certifi, in memory or in lib/) is found by a hint
  (``source_hint``) and proven by comparing it with the copy its entry keeps (``SOURCE``).
- On disk (``~/.cache``, ``$XDG_CACHE_HOME``) an entry is published at the second miss of its key
  only (``worth_publishing``): a run in a fresh container never pays for writing one.
- An entry is published whole: built in a ``tmp-<random>`` sibling under an exclusive flock of
  the cache directory, an INDEX (names, sizes and digests, sealed by its length and CRC-32), its
  mtime set to a fixed sentinel, then renamed into place (not fsynced). At most ``MAX_ENTRIES``
  are kept; the oldest published that no process holds go first. That writing half is
  ``_cache_publish``, loaded only when something is written: a hit unmarshals none of it.
- A hit is checked without trusting names: the entry opened with O_NOFOLLOW|O_DIRECTORY and
  held by a shared flock (no eviction while we run), ours, 0700, the sentinel mtime (any entry
  added, removed or renamed inside since publication changes it), an INDEX that is whole, names
  our key and lists exactly the entry's files (after a reboot: each a regular file of ours of
  the size written). Contexts get ``/proc/self/fd/N``, so a rename or a new entry under that
  name after the check changes nothing. File contents are not hashed
  again: only our own uid (or root) can write inside, and they are not whom this guards against.
- No cache in a privileged exec (AT_SECURE), while the ids are temporarily changed, where
  directories have no descriptor path (not Linux) or owners mean nothing (Windows): then
  exactly today's behaviour.

At every context the entry is checked like a private directory (one fstat, the ids, one open
through the contexts' path). If it was removed or emptied (logind's RemoveIPC at logout), the
plan is built again: a new entry or a private directory. The entry's descriptor is never
closed while the process runs.
"""

from __future__ import annotations

import os
import stat

from . import _platform

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from typing import Callable, Iterable, Tuple

    Note = Callable[[str, str], None]
    Opened = Tuple[int, str, bool]  # the cache directory: descriptor, path, on disk

FORMAT = "pyoxidizer-ssl cache 2"  # the INDEX's first line; part of every key (2: a CRC seal)
DIR_NAME = "pyoxidizer-ssl"
INDEX = "INDEX"
# The bundle an entry was split from, kept where no file identity can name it (certifi): a
# later run proves it holds the same bytes by comparing them, instead of hashing them.
SOURCE = "SOURCE"
MAX_ENTRIES = 8
MAX_INDEX_BYTES = 1024 * 1024
ENTRY_PREFIX = "e-"
SEEN_PREFIX = "s-"  # a key missed once on disk (``worth_publishing``)
TMP_PREFIX = "tmp-"
# Every published entry's mtime, 2000-01-01T00:00:00Z: any change inside sets it to the present.
SENTINEL_NS = 946_684_800 * 1_000_000_000
# Bundles known by their files' identity (``known_key``): one line per identity, newest first.
IDENTITIES = "IDENTITIES"
IDENTITIES_FORMAT = "pyoxidizer-ssl identities 1"
MAX_IDENTITIES = 16
# A file changed less than this before it was read is not remembered: a change in the same
# clock tick (a jiffy; whole seconds on some file systems, two on FAT) can keep its ctime.
RACY_NS = 3_000_000_000
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | _CLOEXEC
_READ_FLAGS = os.O_RDONLY | _NOFOLLOW | _CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
# Memory every Linux has, where no $XDG_RUNTIME_DIR is set (a container, a service).
SHM = "/dev/shm" if _platform.FD_PATH is not None else None


def digest(data: bytes, size: int = 32) -> str:
    """BLAKE2b of ``data`` in hex, ``size`` bytes: 32 for a bundle's identity in keys (and
    certifi's check), ``_layout.TEXT_DIGEST_SIZE`` for a certificate's text.

    CPython's own ``_blake2`` (~0.2 ms to import in the binary, 220 KB hashed in ~0.16 ms);
    ``_hashlib``'s SHA-256 hashes faster but costs ~2 ms to import there, and hashlib loads
    every algorithm (only where ``_blake2`` is missing).
    """
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - every CPython 3.8+ build has it
        from hashlib import blake2b
    return blake2b(data, digest_size=size).hexdigest()


def key(
    version: str, bundles: Iterable[str], certifi: bool, extra: Iterable[tuple[str, str]]
) -> str:
    """The entry's name for this content: BLAKE2b over all that decides it, each part framed."""
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover
        from hashlib import blake2b
    parts = [FORMAT, version, "certifi" if certifi else "system", *bundles]
    parts.extend(f"{name} {pem}" for name, pem in extra)
    h = blake2b(digest_size=20, person=b"pyoxidizer-ssl")
    for part in parts:
        raw = part.encode("utf-8")
        h.update(len(raw).to_bytes(8, "little") + raw)
    return ENTRY_PREFIX + h.hexdigest()


def identity(
    version: str,
    bundles: Iterable[tuple[str | None, os.stat_result | None]],
    certifi: bool,
    extra: Iterable[tuple[str, str]],
    now_ns: int,
) -> str | None:
    """What decides an entry's content when every split bundle is named by its file's identity
    instead of its digest: hex of the framed parts; None when one cannot be (not read from a
    file; changed less than RACY_NS ago: a change in the same tick could keep its ctime).

    A file's (device, inode, size, mtime, ctime, owner, mode) as fstat'ed when it was read: no
    content can change without its ctime moving, which no user can set (only the clock, root's)
    and which a new file at that inode gets anew. The boot id ties it to this boot and host (a
    device number is reused after a reboot; a home on NFS is shared between hosts).
    """
    boot = boot_id()
    if boot == "unknown":
        return None
    parts = [IDENTITIES_FORMAT, FORMAT, boot, version, "certifi" if certifi else "system"]
    for path, info in bundles:
        if path is None or info is None or not stat.S_ISREG(info.st_mode):
            return None
        if now_ns - max(info.st_mtime_ns, info.st_ctime_ns) < RACY_NS:
            return None
        parts.append(
            f"{path}\0{info.st_dev} {info.st_ino} {info.st_size} {info.st_mtime_ns} "
            f"{info.st_ctime_ns} {info.st_uid} {info.st_mode}"
        )
    parts.extend(f"{name} {pem}" for name, pem in extra)
    return _framed(parts)


def _framed(parts: list[str]) -> str:
    """``parts`` as one IDENTITIES key: each framed by its length (no two lists give the same
    text), in hex (a key is one word of a line)."""
    return "".join(f"{len(part)}:{part}" for part in parts).encode("utf-8", "surrogateescape").hex()


def source_hint(version: str, certifi: bool, extra: Iterable[tuple[str, str]], size: int) -> str:
    """What names, in ``IDENTITIES``, the entry last split from a bundle known by no file of
    its own (certifi, in memory or in lib/): its size, the key's other parts, and the
    executable's identity (an updated binary may embed another certifi). A hint only, never a
    proof: such a hit compares the bundle with the copy the entry keeps (``lookup``'s
    ``source``), ~0.05 ms where hashing it costs ~0.5 ms and ``_blake2``'s import."""
    import sys

    try:  # by name, a hint as any: valgrind's /proc/self/exe would be valgrind itself
        exe = os.stat(sys.executable)
        binary = f"{exe.st_dev} {exe.st_ino} {exe.st_size} {exe.st_mtime_ns} {exe.st_ctime_ns}"
    except (OSError, TypeError, ValueError):
        binary = "unknown"
    parts = [IDENTITIES_FORMAT, FORMAT, "source", version, "certifi" if certifi else "system"]
    parts.extend([binary, str(size)])
    parts.extend(f"{name} {pem}" for name, pem in extra)
    return _framed(parts)


def known_key(cache: Opened, ident: str, note: Note) -> str | None:
    """The entry name remembered for ``ident`` (a hit with it reads and hashes no bundle), or
    None. IDENTITIES is read like an INDEX: opened without following a link in our own cache
    directory, a small regular file of ours open to no one else; otherwise ignored (traced)."""
    for line in _read_identities(cache[0], note):
        held, _, name = line.partition(" ")
        if held == ident and _is_entry_name(name):
            note("cache.identity_known", "cache: every bundle unchanged since it was hashed")
            return name
    return None


def _read_identities(cache_fd: int, note: Note) -> list[str]:
    """IDENTITIES' lines after its format line; [] when missing or refused (traced)."""
    lines, why = read_lines(cache_fd, IDENTITIES, IDENTITIES_FORMAT)
    if why:
        note("cache.identity_refused", f"cache: IDENTITIES {why}")
    return lines


def read_upto(fd: int, size: int) -> bytes:
    """Up to ``size`` bytes of ``fd``, however many reads that takes."""
    parts = []
    while size > 0:
        part = os.read(fd, size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def read_lines(
    cache_fd: int, name: str, form: str, most_bytes: int = MAX_INDEX_BYTES
) -> tuple[list[str], str | None]:
    """(the lines after the format line, None) of the small file ``name`` of the cache
    directory (IDENTITIES, ``_verdicts``' HASHED), or ([], why not): opened without following
    a link or blocking (a FIFO), a regular file of ours open to no one else, of at most
    ``most_bytes``, whose first line is ``form``. ([], None) when it is not there."""
    try:
        text, why = _read_own(cache_fd, name, most_bytes)
    except FileNotFoundError:
        return [], None
    except OSError as exc:
        return [], f"not opened: {exc.strerror or exc}"
    lines = text.decode("utf-8", "surrogateescape").split("\n")
    if not why and lines[0] != form:
        why = "not in this format"
    if why:
        return [], f"ignored: {why}"
    return [line for line in lines[1:] if line], None


def _is_entry_name(name: str) -> bool:
    hexed = name[len(ENTRY_PREFIX) :]
    return (
        name.startswith(ENTRY_PREFIX) and len(hexed) == 40 and not hexed.strip("0123456789abcdef")
    )


def unavailable() -> str | None:
    """Why this process uses no cache (then: today's private directory); None when it may."""
    if not _platform.POSIX_OWNERS or _platform.FD_PATH is None or not _DIR_FLAGS & _NOFOLLOW:
        return "no descriptor paths or file owners on this platform"
    if not _platform.env_is_trusted():
        return "a privileged exec (setuid, setgid or file capabilities)"
    if not _platform.ids_settled():
        return "the ids are temporarily changed"
    return None


class Entry:
    """A cache entry held open: what contexts are given, checked like a private directory."""

    def __init__(self, fd: int, path: str, real_path: str, count: int, probe: str | None) -> None:
        self.fd = fd  # never closed while the process runs: contexts name it
        self.path = path  # /proc/self/fd/N: what OpenSSL is given
        self.real_path = real_path  # what export_env exports
        self.count = count
        self.probe = probe
        self.ids = _platform.ids()
        info = os.fstat(fd)
        self.ident = (info.st_dev, info.st_ino)

    def intact(self) -> bool:
        """Still the entry checked, unchanged, and readable as we are now (at every context)."""
        try:
            info = os.fstat(self.fd)
        except OSError:
            return False
        if (
            (info.st_dev, info.st_ino) != self.ident
            or info.st_nlink == 0
            or info.st_mtime_ns != SENTINEL_NS
            or stat.S_IMODE(info.st_mode) != 0o700
            or _platform.ids() != self.ids
        ):
            return False
        return _platform.can_open(self.path, self.probe)

    def repair(self, note: Note) -> bool:
        """An entry is never rebuilt in place: the plan is built again (a new entry, or a
        private directory). Contexts made before keep this descriptor: our own entry, to which
        no one else can add; if it was emptied they fail closed."""
        note(
            "cache.entry_lost",
            f"cache entry {self.real_path!r} was removed, changed or cannot be read now; "
            "building the plan again",
        )
        return False

    def exportable(self) -> bool:
        """True when the real path stays unclaimable by others after we exit (export_env)."""
        return _platform.chain_open_to_others(self.real_path, _platform.EXPORTED) is None

    def close(self) -> None:
        """Nothing to remove: an entry outlives the process (the point of a cache)."""


def open_cache(note: Note, shared_refused: bool = False) -> Opened | None:
    """Open (making it at the first run) the first usable cache directory; None if none is.

    Returns (descriptor, path, on disk): ~/.cache is on disk, $XDG_RUNTIME_DIR in memory (a
    tuple, not a class: creating a class costs more at import than this module's functions).
    Every candidate passed over is in the trace, with the reason. ``shared_refused``: not in
    /dev/shm (export_env).
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    cache_home = os.environ.get("XDG_CACHE_HOME", "")
    home = os.environ.get("HOME", "")
    candidates: list[tuple[str, str]] = []
    if runtime:
        candidates.append(("XDG_RUNTIME_DIR", runtime))
    if cache_home:  # set: where this user wants caches
        candidates.append(("XDG_CACHE_HOME", cache_home))
    if not runtime and not cache_home and SHM is not None and not shared_refused:
        candidates.append(("/dev/shm", SHM))
    if home and not cache_home:
        candidates.append(("HOME", os.path.join(home, ".cache")))
    for variable, base in candidates:
        if not os.path.isabs(base):
            note("cache.refused", f"cache: {variable}={base!r} is not an absolute path")
            continue
        base = os.path.normpath(base)  # lexical only: any link on the way is refused below
        shared = variable == "/dev/shm"
        path = os.path.join(base, f"{DIR_NAME}-{os.geteuid()}" if shared else DIR_NAME)
        try:
            fd = _open_checked(base, path, variable == "HOME", shared)
        except OSError as exc:
            note(
                "cache.refused", f"cache: {path!r} ({variable}) passed over: {exc.strerror or exc}"
            )
            continue
        return (fd, path, variable not in ("XDG_RUNTIME_DIR", "/dev/shm"))
    note("cache.none", "cache: no usable cache directory; using a private directory")
    return None


def _refused(why: str) -> OSError:
    """A cache directory that must not be used; strerror says why (no class of its own)."""
    return OSError(0, why)


def _open_checked(base: str, path: str, make_base: bool, shared: bool = False) -> int:
    """Open ``path`` after checking it and every directory above it as given (lstat); make
    it (and ``~/.cache`` when ``make_base``) 0700 where missing, once what is above passed.

    ``shared``: ``base`` is a sticky directory of everyone's (/dev/shm): it must be root's or
    ours and no link, what is above it pass as for any cache, and ``path`` in it is checked
    alone (ours, 0700, no link): others may add names beside it, never rename or remove it.
    """
    if shared:
        why = _platform.chain_open_to_others(base, _platform.TEMP_PARENT)
        why = why or _platform.chain_open_to_others(os.path.dirname(base), _platform.EXPORTED)
        if why:
            raise _refused(why)
        try:
            os.mkdir(path, 0o700)  # a name another user took first stays theirs: refused below
        except FileExistsError:
            pass
        why = _platform.chain_open_to_others(path, _platform.MINE)
        if why:
            raise _refused(why)
        return _open_dir(path)
    if make_base and not os.path.lexists(base):
        parent_why = _platform.chain_open_to_others(os.path.dirname(base), _platform.EXPORTED)
        if parent_why:
            raise _refused(parent_why)
        try:
            os.mkdir(base, 0o700)  # ~/.cache, as the XDG spec makes it
        except FileExistsError:
            pass
    if not os.path.lexists(path):
        why = _platform.chain_open_to_others(base, _platform.EXPORTED)
        if why:
            raise _refused(why)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
    why = _platform.chain_open_to_others(path, _platform.EXPORTED)
    if why:
        raise _refused(why)
    return _open_dir(path)


def _open_dir(path: str) -> int:
    """Open the checked cache directory ``path``: the one lstat'ed, ours alone, 0700."""
    named = os.lstat(path)
    fd = os.open(path, _DIR_FLAGS)
    try:
        info = os.fstat(fd)
        why = _platform.open_to_others(info, _platform.MINE)
        if not why and (info.st_dev, info.st_ino) != (named.st_dev, named.st_ino):
            why = "its name changed while it was opened"
        if not why and stat.S_IMODE(info.st_mode) != 0o700:
            why = f"mode {stat.S_IMODE(info.st_mode):o}, not 700"
        if why:
            raise _refused(why)
    except BaseException:
        os.close(fd)
        raise
    return fd


def close(cache: Opened) -> None:
    """Close the cache directory open_cache() opened."""
    os.close(cache[0])


def lookup(cache: Opened, name: str, note: Note, source: bytes | None = None) -> Entry | None:
    """The published entry ``name`` if it passes every check (traced: hit, miss, refused).

    ``source``: the bundle the entry must have been split from, compared byte for byte with the
    copy it keeps (``SOURCE``): the proof that a bundle known by no file of its own (certifi,
    found through ``source_hint``) is the one the entry holds. An entry of another bundle is
    passed over (``cache.source_differs``), not refused: it is another content's, still good.
    """
    return _check_entry(cache[0], cache[1], name, note, quiet=False, source=source)


def _check_entry(
    cache_fd: int,
    cache_path: str,
    name: str,
    note: Note,
    quiet: bool,
    source: bytes | None = None,
) -> Entry | None:
    """The entry ``name`` of the cache open at ``cache_fd`` if it passes every check; a miss
    and a hit are traced unless ``quiet`` (publish's own looks), a refusal always."""
    import fcntl

    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=cache_fd)
    except FileNotFoundError:
        if not quiet:
            note("cache.miss", f"cache: no entry {name} in {cache_path!r}")
        return None
    except OSError as exc:
        note("cache.entry_refused", f"cache: entry {name} not opened: {exc.strerror or exc}")
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # held while we run: never evicted under us
        files, why = _verify(fd, name, source)
        if why == _OTHER_SOURCE:
            note(
                "cache.source_differs",
                f"cache: entry {name} was split from another bundle than this one; hashing it",
            )
            os.close(fd)
            return None
        if why is None:
            fd = _platform.move_high(fd)
        if why is None and fd < _platform.HIGH_FD:
            why = "no high descriptor free (a low number is soon reused)"
        if why is None:
            path = str(_platform.FD_PATH) % fd  # not None: unavailable() checked
            entry = Entry(
                fd, path, os.path.join(cache_path, name), len(files), files[0] if files else None
            )
            if os.stat(path).st_ino != entry.ident[1]:
                why = f"{path!r} does not name it (no /proc?)"
            elif not entry.intact():
                why = f"contexts could not read it through {path!r} (a sandbox?)"
            else:
                if not quiet:
                    where = os.path.join(cache_path, name)
                    note("cache.hit", f"cache: hit {where!r}: {len(files)} certificates")
                return entry
    except OSError as exc:
        why = f"{exc.strerror or exc}"
    note("cache.entry_refused", f"cache: entry {name} refused: {why}")
    os.close(fd)
    return None


_OTHER_SOURCE = "split from another bundle"  # _verify's answer for a good entry not ours


def _verify(fd: int, name: str, source: bytes | None = None) -> tuple[list[str], str | None]:
    """(file names, None) if the entry open at ``fd`` is one we published whole, unchanged
    (and, given ``source``, split from exactly those bytes: else ``_OTHER_SOURCE``)."""
    info = os.fstat(fd)
    why = _platform.open_to_others(info, _platform.MINE)
    if why:
        return [], why
    if stat.S_IMODE(info.st_mode) != 0o700:
        return [], f"mode {stat.S_IMODE(info.st_mode):o}, not 700"
    if info.st_mtime_ns != SENTINEL_NS:
        return [], "changed since it was published (its mtime is not the sentinel)"
    text, why = _read_own(fd, INDEX, MAX_INDEX_BYTES)
    if why:
        return [], f"INDEX: {why}"
    parsed = parse_index(text, name)
    if parsed is None:
        return [], "INDEX is truncated, altered or names another key"
    boot, listed, kept = parsed
    files = [file for file, _ in listed]
    if set(os.listdir(fd)) != set(files) | ({INDEX, SOURCE} if kept else {INDEX}):
        return [], "its files are not those its INDEX lists"
    if source is not None:
        if kept != len(source):
            return files, _OTHER_SOURCE
        same, why = _holds(fd, SOURCE, source)
        if why:
            return [], f"{SOURCE}: {why}"
        if not same:
            return files, _OTHER_SOURCE
    if boot == boot_id() and boot != "unknown":
        return files, None  # nothing was lost to a crash since it was written
    mine = os.geteuid()
    for file, size in listed:  # what a crash before writeback leaves: empty or short files
        info = os.stat(file, dir_fd=fd, follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode) or info.st_size != size or info.st_uid != mine:
            return [], f"{file!r} is not the regular file of {size} bytes written"
    return files, None


def _open_own(dir_fd: int, file: str) -> tuple[int, os.stat_result, str | None]:
    """(descriptor, fstat, why it may not be read or None) of ``file`` in the directory open at
    ``dir_fd``, opened without following a link or blocking (a FIFO): it must be a regular
    file of ours alone. The caller closes the descriptor."""
    file_fd = os.open(file, _READ_FLAGS | getattr(os, "O_NONBLOCK", 0), dir_fd=dir_fd)
    try:
        meta = os.fstat(file_fd)
    except BaseException:
        os.close(file_fd)
        raise
    why = None if stat.S_ISREG(meta.st_mode) else "not a regular file"
    return file_fd, meta, why or _platform.open_to_others(meta, _platform.MINE)


def _read_own(dir_fd: int, file: str, most: int) -> tuple[bytes, str | None]:
    """(the bytes of ``file`` in the directory open at ``dir_fd``, None), or (b"", why not):
    a regular file of ours alone (``_open_own``) of at most ``most`` bytes (an entry's INDEX,
    the cache directory's IDENTITIES and HASHED)."""
    file_fd, meta, why = _open_own(dir_fd, file)
    try:
        if not why and meta.st_size > most:
            why = f"over {most} bytes"
        return (b"", why) if why else (read_upto(file_fd, meta.st_size + 1), None)
    finally:
        os.close(file_fd)


def _holds(fd: int, file: str, expected: bytes) -> tuple[bool, str | None]:
    """(whether ``file`` in the entry open at ``fd`` holds exactly ``expected``, None), or
    (False, why it cannot be read): a regular file of ours alone (``_open_own``), compared
    16 KB at a time (reading 220 KB whole into a new object costs a fresh process twice as
    much: its pages are faulted in)."""
    file_fd, meta, why = _open_own(fd, file)
    try:
        if why:
            return False, why
        if meta.st_size != len(expected):
            return False, None
        done = 0
        while True:
            chunk = os.read(file_fd, 16384)
            if not chunk:
                return done == len(expected), None
            if chunk != expected[done : done + len(chunk)]:
                return False, None
            done += len(chunk)
    finally:
        os.close(file_fd)


def index_seal(body: bytes, count: int) -> bytes:
    """The INDEX's last line: the count of files, the length and the CRC-32 of all before it.

    What it guards against is a cut (a crash; a truncated copy) and a line lost or changed by
    accident: the entry is ours alone, and what could write inside it (our own uid, root) is
    not whom the cache guards against, so no cryptographic digest is needed (nor ``_blake2``'s
    import at a hit). ``binascii`` is loaded already: ssl imports it (through base64).
    """
    import binascii

    return f"end {count} {len(body)} {binascii.crc32(body):08x}\n".encode("ascii")


def parse_index(text: bytes, name: str) -> tuple[str, list[tuple[str, int]], int] | None:
    """(boot, [(file name, size)], SOURCE's size or 0) of an INDEX that is whole and names
    ``name``; else None."""
    body, sep, last = text.rstrip(b"\n").rpartition(b"\n")
    if not sep:
        return None
    body += b"\n"
    try:
        lines = body.decode("ascii").split("\n")[:-1]
    except UnicodeDecodeError:
        return None
    rows = [line.split(" ") for line in lines[4:]]
    if last + b"\n" != index_seal(body, len(rows)):
        return None
    if len(lines) < 4 or lines[0] != FORMAT or lines[1] != name or lines[2][:5] != "boot ":
        return None
    kept = lines[3][7:]
    if lines[3][:7] != "source " or not kept.isdigit() or not kept.isascii():
        return None
    if any(len(parts) != 3 for parts in rows):
        return None
    names = [parts[0] for parts in rows]
    sizes = [parts[1] for parts in rows]
    if rows and not (_all_file_names(names) and all(sizes) and "".join(sizes).isdigit()):
        return None
    return lines[2][5:], list(zip(names, map(int, sizes))), int(kept)


def _all_file_names(names: list[str]) -> bool:
    """``_is_file_name`` of every one of ``names`` (not empty), in a few passes over all of
    them at once instead of one call per name: ~0.1 ms less per hit for ~120 entries. Each
    name's first nine characters are eight hex digits and a dot, the rest digits (all ASCII:
    the INDEX was decoded as such)."""
    heads = "".join([name[:9] for name in names])
    tails = [name[9:] for name in names]
    hexes = heads.replace(".", "")
    return (
        len(heads) == 9 * len(names)  # none shorter than nine
        and heads[8::9] == "." * len(names)
        and len(hexes) == 8 * len(names)  # no dot among the hex digits
        and not hexes.strip("0123456789abcdef")
        and all(tails)
        and "".join(tails).isdigit()
    )


def boot_id() -> str:
    """This boot's id (Linux): a crash is a reboot, so an entry written in this boot was
    never cut short by one, whatever was still to be written back. Read once per process."""
    global _boot
    if _boot is None:
        try:
            with open("/proc/sys/kernel/random/boot_id", "rb") as f:
                _boot = f.read(64).decode("ascii", "replace").strip() or "unknown"
        except OSError:
            _boot = "unknown"
    return _boot


_boot: str | None = None


def _is_file_name(name: str) -> bool:
    """XXXXXXXX.N, as ``_x509.is_hash_name`` says; not imported from there: a hit loads no
    ``_x509`` of its own."""
    suffix = name[9:]
    return (
        name[8:9] == "."
        and len(name) > 9
        and not name[:8].strip("0123456789abcdef")
        and suffix.isdigit()
        and suffix.isascii()
    )
