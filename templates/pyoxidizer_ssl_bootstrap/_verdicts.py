"""The hashed-copy check's verdict, kept between runs (``_sources.hashed_copy``, issue #20.4).

Fedora 37+ and RHEL 9 ship their roots as a hashed directory beside the bundle, which contexts
are given as it is once ``_hashed_copy.unlike`` found it a faithful copy. That check opens and
reads every entry (~240 for 118 roots: ~3 ms, most of a first context there), so a faithful
verdict is kept in the per-user cache directory of ``_cache`` (the same rules: ours, 0700,
nothing above it another user can write; none in a privileged exec or while the ids are
changed), as one small file of ours, ``HASHED``, written aside and renamed into place under the
cache's lock. A later run uses it only while everything the check read is as it was then: the
``lstat`` of the directory, of each XXXXXXXX.N entry and of each file a link names (as the
check itself took them, each before what it covers was read) and of the bundle (the file whose
bytes were checked), each with its mode, inode, device, links, owner, group, size, mtime and
ctime; and the boot, our uid and this bootstrap's version. A later run ``lstat``s the same
names, about 240 calls for 118 roots, where the check opens and reads each. No write, rename,
chmod, chown, link or unlink of any of them keeps its ctime (an entry added or removed moves
the directory's), which no user can set (only the clock, root's); a verdict whose inputs
changed less than ``RACY_NS`` before it was taken (a change in the same clock tick can keep a
ctime) is not kept. Anything different: the whole check runs, as at every run before. Only a
faithful verdict is kept: a refusal is checked again at every run.
"""

from __future__ import annotations

import marshal
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from typing import Callable

    from . import _cache

    Note = Callable[[str, str], None]

# The verdicts kept between runs: a file of ours in the cache directory, one line per directory.
VERDICTS = "HASHED"
VERDICTS_FORMAT = "pyoxidizer-ssl hashed-copy verdicts 1"
MAX_VERDICTS = 4
MAX_VERDICTS_BYTES = 1024 * 1024
# A verdict is not kept when anything it read changed less than this before: a change in the
# same clock tick (a jiffy; whole seconds on some file systems, two on FAT) can keep a ctime.
RACY_NS = 3_000_000_000
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC
# The bundle read again (a caller without read_bundle's fstat): never blocking on a FIFO.
_READ_FLAGS = os.O_RDONLY | _NOFOLLOW | _CLOEXEC | getattr(os, "O_NONBLOCK", 0)


def check(
    directory: str,
    bundle: str,
    data: bytes,
    note: Note,
    read: os.stat_result | None = None,
) -> str | None:
    """Why ``directory`` is not a hashed copy of ``bundle`` (whose bytes are ``data``), None
    when it is: the verdict a run kept if nothing it read has changed since, else ``unlike``
    (and a faithful verdict kept for the next run). Raises OSError as ``unlike`` does.

    ``bundle`` is the real path that was read (no link on it). ``read``: the ``fstat`` of the
    descriptor ``data`` was read from, taken before the read (``_sources.read_bundle``); without
    it the bundle is read again to tie its identity to the bytes checked. Where no cache may be used
    (``_cache.unavailable``: a privileged exec, ids changed for a while, no descriptor paths)
    or none is usable, exactly the check of every run.
    """
    from . import _cache

    why = _cache.unavailable()
    if why is not None:
        note(
            "sources.system.hashed_dir.verdict_unavailable",
            f"system: hashed directory {directory!r}: no verdict kept between runs: {why}",
        )
        return _unlike(directory, data)
    cache = _cache.open_cache(note, _shared_refused())
    if cache is None:
        note(
            "sources.system.hashed_dir.verdict_unavailable",
            f"system: hashed directory {directory!r}: no verdict kept between runs: no usable "
            "cache directory",
        )
        return _unlike(directory, data)
    try:
        return _check(cache, directory, bundle, data, note, read)
    finally:
        _cache.close(cache)


def _unlike(
    directory: str, data: bytes, seen: dict[str, os.stat_result] | None = None
) -> str | None:
    from . import _hashed_copy  # the whole check: not at a hit

    return _hashed_copy.unlike(directory, data, seen)


def _shared_refused() -> bool:
    from . import _data

    return _data.EXPORT_ENV  # the cache directory the plan opens: one per process


def _check(
    cache: _cache.Opened,
    directory: str,
    bundle: str,
    data: bytes,
    note: Note,
    read: os.stat_result | None,
) -> str | None:
    cache_fd = cache[0]
    lines = _read_verdicts(cache_fd, note)
    tag = directory.encode("utf-8", "surrogateescape").hex()
    for line in lines:
        held, _, rest = line.partition(" ")
        if held != tag:
            continue
        names_hex, _, kept = rest.partition(" ")
        try:
            names = bytes.fromhex(names_hex).decode("utf-8", "surrogateescape").split("\0")
            now = _state(directory, names, bundle)
        except (OSError, ValueError):
            break  # an entry gone, a directory replaced: the whole check says what
        if now == kept:
            note(
                "sources.system.hashed_dir.verdict_known",
                f"system: hashed directory {directory!r}: unchanged since a run found it a "
                f"faithful copy of {bundle!r} (every entry, link and the bundle); not read again",
            )
            return None
        break
    seen: dict[str, os.stat_result] = {}  # each lstat taken before what it covers was read
    reason = _unlike(directory, data, seen)
    if reason is None:
        _remember(cache, directory, seen, bundle, data, note, read)
    return reason


def _state(directory: str, names: list[str], bundle: str) -> str:
    """What a verdict on ``directory`` depends on now, as text (``_text``): the lstat of each of
    ``names`` in it, of the directory and of the bundle."""
    fd = os.open(directory, _DIR_FLAGS)
    try:
        own = os.fstat(fd)
        infos = [os.stat(name, dir_fd=fd, follow_symlinks=False) for name in names]
    finally:
        os.close(fd)
    infos.append(own)
    infos.append(os.stat(bundle, follow_symlinks=False))
    return _text(directory, bundle, infos)


def _text(directory: str, bundle: str, infos: list[os.stat_result]) -> str:
    """The (l)stats ``infos`` (each entry's, then the directory's, then the bundle's) with the
    boot, our uid and this bootstrap's version, as text: equal text, equal inputs."""
    from . import _cache, _data

    fields = [(info[:7], info.st_mtime_ns, info.st_ctime_ns) for info in infos]
    head = (VERDICTS_FORMAT, _data.VERSION, _cache.boot_id(), os.geteuid(), directory, bundle)
    # marshal's version 2 (no references: the same values always give the same bytes) is
    # ~5x cheaper than repr for these ~240 tuples, and needs no import (importlib's own).
    # (l)stat's first seven: mode, inode, device, links, owner, group, size.
    return marshal.dumps((head, fields), 2).hex()


def _remember(
    cache: _cache.Opened,
    directory: str,
    seen: dict[str, os.stat_result],
    bundle: str,
    data: bytes,
    note: Note,
    read: os.stat_result | None = None,
) -> None:
    """Keep the faithful verdict on ``directory`` whose inputs ``unlike`` saw (``seen``: each
    lstat taken before what it covers was read), unless one changed too close to it, a link
    names its file through another, or the bundle is no longer the file read; written aside
    and renamed into place under the cache's lock.

    The bundle's identity kept is ``read``, the fstat taken before its bytes were read: any
    write during or after that read moves its ctime, so a later run finds it changed. Without
    ``read`` the bundle is read again through a descriptor, whose fstat is kept if the bytes
    are those checked."""
    import time

    from . import _cache, _cache_publish

    why = None if seen else "a link names its file through another link"
    info = read
    if info is None:
        try:
            fd = os.open(bundle, _READ_FLAGS)  # the bytes checked: the file whose fstat is kept
            try:
                info = os.fstat(fd)
                if not why and _cache.read_upto(fd, info.st_size + 1) != data:
                    why = f"{bundle!r} changed after it was read"
            finally:
                os.close(fd)
        except OSError as exc:
            why = why or f"{bundle!r}: {exc.strerror or exc}"
    names = sorted(name for name in seen if name)
    infos = [seen[name] for name in names]
    if not why and info is not None:  # info is set whenever why is not
        infos += [seen[""], info]
        newest = max(max(each.st_mtime_ns, each.st_ctime_ns) for each in infos)
        if time.time_ns() - newest < RACY_NS or _cache.boot_id() == "unknown":
            why = "changed moments ago (or no boot id)"
        elif len(infos) * 200 > MAX_VERDICTS_BYTES // MAX_VERDICTS:
            why = f"{len(infos)} entries: more than its verdict file holds"
    if why:
        note(
            "sources.system.hashed_dir.verdict_not_kept",
            f"system: hashed directory {directory!r}: {why}; verdict not kept",
        )
        return
    text = _text(directory, bundle, infos)
    tag = directory.encode("utf-8", "surrogateescape").hex()
    listed = "\0".join(names).encode("utf-8", "surrogateescape").hex()
    try:
        _cache_publish.write_line(
            cache[0], VERDICTS, VERDICTS_FORMAT, f"{tag} {listed} {text}", MAX_VERDICTS
        )
    except OSError as exc:
        note(
            "sources.system.hashed_dir.verdict_not_kept",
            f"system: hashed directory {directory!r}: verdict not written: {exc.strerror or exc}",
        )
        return
    note(
        "sources.system.hashed_dir.verdict_kept",
        f"system: hashed directory {directory!r}: verdict kept in {cache[1]!r} for later runs",
    )


def _read_verdicts(cache_fd: int, note: Note) -> list[str]:
    """HASHED's lines after its format line; [] when missing or refused (traced): read as the
    cache's IDENTITIES is (``_cache.read_lines``)."""
    from . import _cache

    lines, why = _cache.read_lines(cache_fd, VERDICTS, VERDICTS_FORMAT, MAX_VERDICTS_BYTES)
    if why:
        note("sources.system.hashed_dir.verdict_refused", f"system: kept verdicts {why}")
    return lines
