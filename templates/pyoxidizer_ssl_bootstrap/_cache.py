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
- On disk (``~/.cache``, ``$XDG_CACHE_HOME``) an entry is published at the second miss of its key
  only (``worth_publishing``): a run in a fresh container never pays for writing one.
- An entry is published whole: built in a ``tmp-<random>`` sibling under an exclusive flock of
  the cache directory, an INDEX (names, sizes and digests, ending with its own digest), its
  mtime set to a fixed sentinel, then renamed into place (not fsynced: see ``_write_entry``). At
  most ``MAX_ENTRIES`` are kept; the oldest published that no process holds go first.
- A hit is checked without trusting names: the entry opened with O_NOFOLLOW|O_DIRECTORY and
  held by a shared flock (no eviction while we run), ours, 0700, the sentinel mtime (any entry
  added, removed or renamed inside since publication changes it), an INDEX that is whole, names
  our key and lists exactly the entry's files (after a reboot: each a regular file of ours of
  the size written).
  Contexts get ``/proc/self/fd/N``, so a rename or
  a new entry under that name after the check changes nothing. File contents are not hashed
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

FORMAT = "pyoxidizer-ssl cache 1"  # the INDEX's first line; part of every key
DIR_NAME = "pyoxidizer-ssl"
INDEX = "INDEX"
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


def digest(data: bytes) -> str:
    """BLAKE2b-256 of ``data`` in hex: a bundle's identity in keys (and certifi's check).

    CPython's own ``_blake2`` (~0.2 ms to import in the binary, 220 KB hashed in ~0.16 ms);
    ``_hashlib``'s SHA-256 hashes faster but costs ~2 ms to import there, and hashlib loads
    every algorithm (only where ``_blake2`` is missing).
    """
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - every CPython 3.8+ build has it
        from hashlib import blake2b
    return blake2b(data, digest_size=32).hexdigest()


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
    return "".join(f"{len(part)}:{part}" for part in parts).encode("utf-8", "surrogateescape").hex()


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


def remember_key(cache: Opened, ident: str, name: str, note: Note) -> None:
    """Remember ``ident`` -> entry ``name`` (newest first, at most MAX_IDENTITIES), written
    aside and renamed into place under the cache directory's lock; failures only traced."""
    import fcntl

    cache_fd = cache[0]
    new = IDENTITIES + ".new"
    try:
        fcntl.flock(cache_fd, fcntl.LOCK_EX)
        try:
            lines = [f"{ident} {name}"]
            lines.extend(
                line for line in _read_identities(cache_fd, note) if line.partition(" ")[0] != ident
            )
            text = "\n".join([IDENTITIES_FORMAT, *lines[:MAX_IDENTITIES]]) + "\n"
            try:
                os.unlink(new, dir_fd=cache_fd)  # a killed writer's (we hold the lock)
            except FileNotFoundError:
                pass
            out = os.open(new, _FILE_FLAGS, 0o600, dir_fd=cache_fd)
            try:
                view = memoryview(text.encode("ascii"))
                while view:
                    view = view[os.write(out, view) :]
            finally:
                os.close(out)
            os.rename(new, IDENTITIES, src_dir_fd=cache_fd, dst_dir_fd=cache_fd)
        finally:
            fcntl.flock(cache_fd, fcntl.LOCK_UN)
    except OSError as exc:
        note("cache.identity_failed", f"cache: identities not written: {exc.strerror or exc}")
        return
    note("cache.identity_remembered", f"cache: bundles remembered by identity for {name}")


def _read_identities(cache_fd: int, note: Note) -> list[str]:
    """IDENTITIES' lines after its format line; [] when missing or refused (traced)."""
    try:
        fd = os.open(IDENTITIES, _READ_FLAGS, dir_fd=cache_fd)
    except FileNotFoundError:
        return []
    except OSError as exc:
        note("cache.identity_refused", f"cache: IDENTITIES not opened: {exc.strerror or exc}")
        return []
    try:
        info = os.fstat(fd)
        why = _platform.open_to_others(info, _platform.MINE)
        if not why and (not stat.S_ISREG(info.st_mode) or info.st_size > MAX_INDEX_BYTES):
            why = "not a small regular file"
        text = b"" if why else os.read(fd, info.st_size + 1)
    finally:
        os.close(fd)
    lines = text.decode("ascii", "replace").split("\n")
    if not why and lines[0] != IDENTITIES_FORMAT:
        why = "not in this format"
    if why:
        note("cache.identity_refused", f"cache: IDENTITIES ignored: {why}")
        return []
    return [line for line in lines[1:] if line]


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


def lookup(cache: Opened, name: str, note: Note) -> Entry | None:
    """The published entry ``name`` if it passes every check (traced: hit, miss, refused)."""
    return _check_entry(cache[0], cache[1], name, note, quiet=False)


def _check_entry(
    cache_fd: int, cache_path: str, name: str, note: Note, quiet: bool
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
        files, why = _verify(fd, name)
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


def _verify(fd: int, name: str) -> tuple[list[str], str | None]:
    """(file names, None) if the entry open at ``fd`` is one we published whole, unchanged."""
    info = os.fstat(fd)
    why = _platform.open_to_others(info, _platform.MINE)
    if why:
        return [], why
    if stat.S_IMODE(info.st_mode) != 0o700:
        return [], f"mode {stat.S_IMODE(info.st_mode):o}, not 700"
    if info.st_mtime_ns != SENTINEL_NS:
        return [], "changed since it was published (its mtime is not the sentinel)"
    index_fd = os.open(INDEX, _READ_FLAGS, dir_fd=fd)
    try:
        meta = os.fstat(index_fd)
        if not stat.S_ISREG(meta.st_mode) or meta.st_size > MAX_INDEX_BYTES:
            return [], "INDEX is not a small regular file"
        why = _platform.open_to_others(meta, _platform.MINE)
        if why:
            return [], f"INDEX: {why}"
        text = os.read(index_fd, meta.st_size + 1)
    finally:
        os.close(index_fd)
    parsed = parse_index(text, name)
    if parsed is None:
        return [], "INDEX is truncated, altered or names another key"
    boot, listed = parsed
    files = [file for file, _ in listed]
    if set(os.listdir(fd)) != set(files) | {INDEX}:
        return [], "its files are not those its INDEX lists"
    if boot == boot_id() and boot != "unknown":
        return files, None  # nothing was lost to a crash since it was written
    mine = os.geteuid()
    for file, size in listed:  # what a crash before writeback leaves: empty or short files
        info = os.stat(file, dir_fd=fd, follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode) or info.st_size != size or info.st_uid != mine:
            return [], f"{file!r} is not the regular file of {size} bytes written"
    return files, None


def render_index(name: str, files: list[tuple[str, bytes]], boot: str) -> bytes:
    """INDEX: the format, the key, the boot it was written in, one 'file size digest' line per
    file, and a line that ends it with the count and the digest of all before it (a truncated
    INDEX has no such line)."""
    lines = [FORMAT, name, "boot " + boot]
    lines.extend(f"{file} {len(data)} {digest(data)}" for file, data in files)
    body = ("\n".join(lines) + "\n").encode("ascii")
    return body + f"end {len(files)} {digest(body)}\n".encode("ascii")


def parse_index(text: bytes, name: str) -> tuple[str, list[tuple[str, int]]] | None:
    """(boot, [(file name, size)]) of an INDEX that is whole and names ``name``; else None."""
    body, sep, last = text.rstrip(b"\n").rpartition(b"\n")
    if not sep:
        return None
    body += b"\n"
    try:
        words = last.decode("ascii").split(" ")
        lines = body.decode("ascii").split("\n")[:-1]
    except UnicodeDecodeError:
        return None
    if len(words) != 3 or words[0] != "end" or words[2] != digest(body):
        return None
    if len(lines) < 3 or lines[0] != FORMAT or lines[1] != name or lines[2][:5] != "boot ":
        return None
    rows = [line.split(" ") for line in lines[3:]]
    if any(len(parts) != 3 for parts in rows) or str(len(rows)) != words[1]:
        return None
    names = [parts[0] for parts in rows]
    sizes = [parts[1] for parts in rows]
    if rows and not (_all_file_names(names) and all(sizes) and "".join(sizes).isdigit()):
        return None
    return lines[2][5:], list(zip(names, map(int, sizes)))


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


def worth_publishing(cache: Opened, name: str, note: Note) -> bool:
    """In memory always; on disk only at the second miss of a key (a marker ``s-<key>`` left
    by the first): writing ~120 files there costs 10-30 ms, which a run in a fresh container,
    whose cache never sees a second run, would pay every time for nothing."""
    cache_fd, _, on_disk = cache
    if not on_disk or _exists(cache_fd, name):  # a refused entry of this key: used before
        return True
    marker = SEEN_PREFIX + name[len(ENTRY_PREFIX) :]
    try:
        info = os.stat(marker, dir_fd=cache_fd, follow_symlinks=False)
    except FileNotFoundError:
        try:
            os.close(os.open(marker, _FILE_FLAGS, 0o600, dir_fd=cache_fd))
        except OSError:
            pass
        note(
            "cache.deferred",
            f"cache: entry {name} missing on disk for the first time: remembered, published "
            "at the next miss (a private directory now)",
        )
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid()


def publish(cache: Opened, name: str, files: list[tuple[str, bytes]], note: Note) -> Entry | None:
    """Publish ``files`` as entry ``name`` (or take the one another run published meanwhile);
    evict beyond MAX_ENTRIES. None, traced, when it cannot be done: the caller falls back."""
    import fcntl

    cache_fd, cache_path, on_disk = cache
    try:
        fcntl.flock(cache_fd, fcntl.LOCK_EX)  # one publisher at a time; readers need no lock
        try:
            found = _check_entry(cache_fd, cache_path, name, note, quiet=True)
            if found is not None:
                return found
            if _exists(cache_fd, name) and not _remove(cache_fd, name):
                note(
                    "cache.publish_failed", f"cache: entry {name} is refused and cannot be removed"
                )
                return None
            _sweep(cache_fd, note)
            _write_entry(cache_fd, name, files)
            note(
                "cache.published",
                f"cache: published {os.path.join(cache_path, name)!r}: {len(files)} certificates"
                + (" (on disk)" if on_disk else " (in memory)"),
            )
            entry = _check_entry(cache_fd, cache_path, name, note, quiet=True)
            _evict(cache_fd, name, note)
            return entry
        finally:
            fcntl.flock(cache_fd, fcntl.LOCK_UN)
    except OSError as exc:
        note("cache.publish_failed", f"cache: entry {name} not published: {exc.strerror or exc}")
        return None


def _write_entry(cache_fd: int, name: str, files: list[tuple[str, bytes]]) -> None:
    """Write the entry aside, then rename it into place whole.

    Not fsynced, even on disk: ~120 fsyncs cost 100-300 ms on a VM's ext4, 20-50 times the
    split itself. A crash before writeback can leave files empty or short (ext4, btrfs): a hit
    in a later boot than the INDEX's compares every size with it (~0.2 ms; in the same boot
    nothing can have been lost) and refuses such an entry, which is then published again.
    (XFS may keep the size and zero the data: such a certificate does not parse and is
    missing, failing closed, until the entry is evicted or the bundle changes.)
    """
    tmp = TMP_PREFIX + os.urandom(8).hex()
    os.mkdir(tmp, 0o700, dir_fd=cache_fd)
    fd = os.open(tmp, _DIR_FLAGS, dir_fd=cache_fd)
    try:
        written = []
        for file_name, data in [*files, (INDEX, render_index(name, files, boot_id()))]:
            out = os.open(file_name, _FILE_FLAGS, 0o600, dir_fd=fd)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(out, view) :]
                written.append(out)
            except BaseException:
                os.close(out)
                raise
        for out in written:
            os.close(out)
        os.utime(fd, ns=(SENTINEL_NS, SENTINEL_NS))
        os.rename(tmp, name, src_dir_fd=cache_fd, dst_dir_fd=cache_fd)
        os.utime(fd, ns=(SENTINEL_NS, SENTINEL_NS))  # should the rename have touched it
    except BaseException:
        from ._cleanup import empty  # only when something is removed: not at a hit

        empty(fd)
        try:
            os.rmdir(tmp, dir_fd=cache_fd)
        except OSError:
            pass
        raise
    finally:
        os.close(fd)


def _exists(cache_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=cache_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _remove(cache_fd: int, name: str) -> bool:
    """Remove entry or leftover ``name`` unless a process holds it; only ours, only its files."""
    import fcntl

    try:
        info = os.stat(name, dir_fd=cache_fd, follow_symlinks=False)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            return False  # ours whatever its mode (a chmod of ours is no reason to keep it)
        fd = os.open(name, _DIR_FLAGS, dir_fd=cache_fd)
    except OSError:
        return False
    try:
        mine = os.fstat(fd)
        if (mine.st_dev, mine.st_ino) != (info.st_dev, info.st_ino):
            return False
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while any process holds it
        from ._cleanup import empty  # only when something is removed: not at a hit

        empty(fd)
        os.rmdir(name, dir_fd=cache_fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _sweep(cache_fd: int, note: Note) -> None:
    """Remove tmp- leftovers of killed publishers (we hold the lock: none is in progress)."""
    for item in os.listdir(cache_fd):
        if item.startswith(TMP_PREFIX) and _remove(cache_fd, item):
            note("cache.stale_removed", f"cache: removed {item!r}, left by a killed run")


def _evict(cache_fd: int, keep: str, note: Note) -> None:
    """Keep at most MAX_ENTRIES: the oldest published (ctime: set at publication, never after)
    that no process holds are removed."""
    entries = []
    markers = []
    for item in os.listdir(cache_fd):
        if item.startswith(SEEN_PREFIX):
            try:
                info = os.stat(item, dir_fd=cache_fd, follow_symlinks=False)
            except OSError:
                continue
            markers.append((info.st_ctime_ns, item))
        if item.startswith(ENTRY_PREFIX) and item != keep:
            try:
                info = os.stat(item, dir_fd=cache_fd, follow_symlinks=False)
            except OSError:
                continue
            entries.append((info.st_ctime_ns, item))
    markers.sort()
    done = SEEN_PREFIX + keep[len(ENTRY_PREFIX) :]
    for index, (_, item) in enumerate(markers):
        if item == done or index < len(markers) - MAX_ENTRIES:
            try:
                os.unlink(item, dir_fd=cache_fd)
            except OSError:
                pass
    entries.sort()
    for _, item in entries[: max(0, len(entries) + 1 - MAX_ENTRIES)]:
        if _remove(cache_fd, item):
            note("cache.evicted", f"cache: evicted {item} (at most {MAX_ENTRIES} kept)")
