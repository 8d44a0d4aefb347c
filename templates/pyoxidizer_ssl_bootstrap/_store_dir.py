"""The ownership walk of every entry of a candidate hashed directory (``_sources``).

Only where a host has no bundle file but a candidate directory holding XXXXXXXX.N entries
(``_sources._entries_changeable``): split from ``_sources`` so that every other first context,
a cache hit above all, does not unmarshal this code.
"""

from __future__ import annotations

import os
import stat

from . import _platform

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from typing import Callable


def entry_open_to_others(path: str, is_hash_name: Callable[[str], bool]) -> str | None:
    """Why another user could change an XXXXXXXX.N entry of ``path`` (None when none could);
    ``is_hash_name``: ``_sources``' test of an entry's name."""
    memo: dict[tuple[str, bool], str | None] = {}  # what each directory was judged
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        with os.scandir(fd) as listing:
            names = [item.name for item in listing if is_hash_name(item.name)]
        for name in names:
            why = way_open_to_others(os.path.join(path, name), memo)
            if why:
                return f"{name!r} leads through {why}"
            entry = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0), dir_fd=fd)
            try:
                info = os.fstat(entry)
            finally:
                os.close(entry)
            why = _platform.open_to_others(info, _platform.STORE)
            if why or not stat.S_ISREG(info.st_mode):
                return f"{name!r}: {why or 'not a regular file'}"
    finally:
        os.close(fd)
    return None


def way_open_to_others(path: str, memo: dict[tuple[str, bool], str | None]) -> str | None:
    """Why another user could change where the absolute ``path`` leads (None if none could),
    resolved as the kernel resolves it: every directory passed through (sticky is fine
    there), every link met however deep (its owner) and the directory holding each link and
    the file at the end (sticky is not: anyone may add a name to it). The file itself is the
    caller's to judge, by ``fstat`` of what it opens.

    Round 4: a link met half-way (root's ``/etc/foo`` pointing into a shared directory where
    another user's link led on) is on neither the path as written nor the real one, so
    walking those two, as round 3 did, never saw it; OpenSSL follows it again at each lookup.
    """

    def judged(where: str, above: bool = False) -> str | None:
        key = (where, above)  # each directory judged once for all the entries
        if key not in memo:
            memo[key] = _platform.open_to_others(os.lstat(where), _platform.STORE, above)
        return memo[key]

    why = judged("/", above=True)
    if why:
        return f"'/': {why}"
    todo = [part for part in path.split("/") if part]
    current, links = "/", 0
    while todo:
        part = todo.pop(0)
        if part in (".", ".."):
            current = os.path.dirname(current) if part == ".." else current
            continue
        where = os.path.join(current, part)
        if todo and memo.get((where, True), "") is None:  # passed through before, and passed
            current = where
            continue
        info = os.lstat(where)
        link = stat.S_ISLNK(info.st_mode)
        if link or not todo:  # whoever may write its directory may replace it
            why = judged(current)
            if why:
                return f"{current!r}: {why}"
        if link:
            why = _platform.open_to_others(info, _platform.STORE)
            links += 1
            if why or links > 40:
                return f"{where!r}: {why or 'too many links'}"
            target = os.readlink(where)
            current = "/" if target.startswith("/") else current
            todo[:0] = [part for part in target.split("/") if part]
            continue
        if todo:
            why = memo[(where, True)] = _platform.open_to_others(info, _platform.STORE, above=True)
            if why:
                return f"{where!r}: {why}"
        current = where
    return None
