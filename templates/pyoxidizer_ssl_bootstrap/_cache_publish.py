"""The between-runs cache's writing half: publish an entry, evict, remember a bundle's identity.

``_cache`` is what a hit needs (find the cache directory, check an entry, hand it to contexts);
this module is loaded only when something is written: at a miss, or at a hit found by hashing
that is then remembered by the bundles' identity. A hit unmarshals none of it.
"""

from __future__ import annotations

import os
import stat

from . import _platform
from ._cache import (
    _DIR_FLAGS,
    _FILE_FLAGS,
    ENTRY_PREFIX,
    FORMAT,
    IDENTITIES,
    IDENTITIES_FORMAT,
    INDEX,
    MAX_ENTRIES,
    MAX_IDENTITIES,
    SEEN_PREFIX,
    SENTINEL_NS,
    SOURCE,
    TMP_PREFIX,
    _check_entry,
    boot_id,
    digest,
    index_seal,
    read_lines,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from ._cache import Entry, Note, Opened


def remember_key(cache: Opened, ident: str, name: str, note: Note) -> None:
    """Remember ``ident`` -> entry ``name`` (newest first, at most MAX_IDENTITIES); failures
    only traced."""
    try:
        write_line(cache[0], IDENTITIES, IDENTITIES_FORMAT, f"{ident} {name}", MAX_IDENTITIES)
    except OSError as exc:
        note("cache.identity_failed", f"cache: identities not written: {exc.strerror or exc}")
        return
    note("cache.identity_remembered", f"cache: bundles remembered by identity for {name}")


def write_line(cache_fd: int, name: str, form: str, line: str, most: int) -> None:
    """Put ``line`` first in the cache directory's small file ``name`` (``read_lines``' kind:
    ``form``, then lines keyed by their first word), dropping the line it replaces and any
    beyond ``most``; written aside and renamed into place under the directory's lock. A file
    ``read_lines`` refuses is replaced whole. Raises OSError."""
    import fcntl

    key = line.partition(" ")[0]
    new = name + ".new"
    fcntl.flock(cache_fd, fcntl.LOCK_EX)
    try:
        kept = [line]
        kept.extend(
            old for old in read_lines(cache_fd, name, form)[0] if old.partition(" ")[0] != key
        )
        text = "\n".join([form, *kept[:most]]) + "\n"
        try:
            os.unlink(new, dir_fd=cache_fd)  # a killed writer's (we hold the lock)
        except FileNotFoundError:
            pass
        out = os.open(new, _FILE_FLAGS, 0o600, dir_fd=cache_fd)
        _platform.write_all(out, text.encode("utf-8", "surrogateescape"))
        os.rename(new, name, src_dir_fd=cache_fd, dst_dir_fd=cache_fd)
    finally:
        fcntl.flock(cache_fd, fcntl.LOCK_UN)


def render_index(
    name: str, files: list[tuple[str, bytes]], boot: str, source: bytes = b""
) -> bytes:
    """INDEX: the format, the key, the boot it was written in, the size of ``SOURCE`` (0: none
    kept), one 'file size digest' line per file (BLAKE2b, for a reader: a hit checks none), and
    a line that ends it with the count, the length and the CRC-32 of all before it
    (``_cache.index_seal``: a truncated INDEX has no such line)."""
    lines = [FORMAT, name, "boot " + boot, f"source {len(source)}"]
    lines.extend(f"{file} {len(data)} {digest(data)}" for file, data in files)
    body = ("\n".join(lines) + "\n").encode("ascii")
    return body + index_seal(body, len(files))


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


def publish(
    cache: Opened, name: str, files: list[tuple[str, bytes]], note: Note, source: bytes = b""
) -> Entry | None:
    """Publish ``files`` as entry ``name`` (or take the one another run published meanwhile);
    evict beyond MAX_ENTRIES. None, traced, when it cannot be done: the caller falls back.

    ``source``: the bundle split, kept beside the files as ``SOURCE`` when no file identity can
    name it (certifi): later runs compare it instead of hashing theirs (``_cache.lookup``)."""
    import fcntl

    cache_fd, cache_path, on_disk = cache
    try:
        fcntl.flock(cache_fd, fcntl.LOCK_EX)  # one publisher at a time; readers need no lock
        try:
            # Given a source, an entry of this key whose kept copy differs is replaced.
            found = _check_entry(cache_fd, cache_path, name, note, True, source or None)
            if found is not None:
                return found
            if _exists(cache_fd, name) and not _remove(cache_fd, name):
                note(
                    "cache.publish_failed", f"cache: entry {name} is refused and cannot be removed"
                )
                return None
            _sweep(cache_fd, note)
            _write_entry(cache_fd, name, files, source)
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


def _write_entry(
    cache_fd: int, name: str, files: list[tuple[str, bytes]], source: bytes = b""
) -> None:
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
        index = render_index(name, files, boot_id(), source)
        kept = [(SOURCE, source)] if source else []
        for file_name, data in [*files, *kept, (INDEX, index)]:
            _platform.write_all(os.open(file_name, _FILE_FLAGS, 0o600, dir_fd=fd), data)
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
