"""Removing private directories: at exit, in forked children, and leftovers of killed runs.

A directory is removed only through descriptors and only if it is still the one that was made
(same device and inode): unlink never follows a link, and nothing outside it is touched. The
last process holding a directory's flock removes it; a killed run's leftover, held by nobody and
older than a minute, is removed by the next run of the same user.

This module knows nothing of what it holds beyond three methods (``close``, ``before_fork``,
``after_fork``): ``_private_dir`` uses it, never the other way round. No signal handler is
installed: a Python-level one would change how the process dies (PID 1 ignores the re-raised
SIGTERM; a long C call delays death), so a directory left by a kill is the next run's to remove.
"""

from __future__ import annotations

import os
import stat

from . import _platform, _x509

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from typing import Callable, Protocol

    Note = Callable[[str, str], None]

    class Held(Protocol):
        """Something this process holds and removes at exit (a private directory)."""

        def close(self) -> None: ...
        def before_fork(self) -> None: ...
        def after_fork(self, child: bool) -> None: ...


PREFIX = "pyoxidizer-ssl-"
CERTIFI_PREFIX = PREFIX + "certifi-"  # the private copy of certifi's bundle (_patches)
STALE_SECONDS = 60  # a younger unlocked directory may be one another run is still setting up
DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

live: list[Held] = []  # every directory this process holds, for fork and exit


def empty(fd: int) -> None:
    """Unlink every entry of the directory open at ``fd`` (unlink never follows a link)."""
    for name in os.listdir(fd):
        try:  # not contextlib.suppress: contextlib would be one more import here
            os.unlink(name, dir_fd=fd)
        except OSError:
            pass


def remove_by_name(parent: str, name: str, ident: tuple[int, int]) -> None:
    """rmdir parent/name, but only if it is still the directory ``ident`` names."""
    try:
        parent_fd = os.open(parent, DIR_FLAGS)
    except OSError:
        return
    try:
        info = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        if (info.st_dev, info.st_ino) == ident:
            os.rmdir(name, dir_fd=parent_fd)
    except OSError:
        pass
    finally:
        os.close(parent_fd)


def remove_tree_by_name(path: str) -> None:
    try:
        for name in os.listdir(path):
            os.unlink(os.path.join(path, name))
        os.rmdir(path)
    except OSError:
        pass


def is_ours(name: str) -> bool:
    """True for exactly the names this package gives its directories (PREFIX + 16 hex digits)."""
    prefix = CERTIFI_PREFIX if name.startswith(CERTIFI_PREFIX) else PREFIX
    rest = name[len(prefix) :] if name.startswith(prefix) else ""
    return len(rest) == 16 and all(c in "0123456789abcdef" for c in rest)


def sweep_stale(parent_fd: int, note: Note) -> None:
    """Remove our user's leftovers that no process holds (killed runs); never reuse them."""
    import fcntl
    import time

    cutoff = time.time() - STALE_SECONDS
    for name in os.listdir(parent_fd):
        if not is_ours(name):
            continue
        try:
            info = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
            if (
                not stat.S_ISDIR(info.st_mode)
                or _platform.open_to_others(info, _platform.MINE)
                or stat.S_IMODE(info.st_mode) != 0o700
                or info.st_mtime > cutoff
            ):
                continue
            fd = os.open(name, DIR_FLAGS | NOFOLLOW, dir_fd=parent_fd)
        except OSError:
            continue
        try:
            mine = os.fstat(fd)
            if (mine.st_dev, mine.st_ino) != (info.st_dev, info.st_ino):
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while any process holds it
            if not all(_x509.is_hash_name(n) or n == "cacert.pem" for n in os.listdir(fd)):
                continue  # not what a run of ours leaves: someone else's, left alone
            empty(fd)
            os.rmdir(name, dir_fd=parent_fd)
            note(
                "cleanup.stale_removed",
                f"private directory: removed {name!r}, left by an earlier run",
            )
        except OSError:
            pass
        finally:
            os.close(fd)


_hooks_installed = False


def register(held: Held, note: Note) -> None:
    """Hold ``held`` until exit; the first time, set up the exit and fork hooks."""
    global _hooks_installed
    live.append(held)
    if _hooks_installed:
        return
    _hooks_installed = True
    import atexit

    atexit.register(close_all)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(
            before=_before_fork,
            after_in_parent=lambda: _after_fork(False),
            after_in_child=lambda: _after_fork(True),
        )
    note(
        "cleanup.no_signal_handler",
        "private directories are removed at exit; one left by a kill (SIGTERM, SIGKILL) is "
        "removed by a later run (no signal handler: the process dies as it would without us)",
    )


def forget(held: Held) -> None:
    if held in live:
        live.remove(held)


def close_all() -> None:
    for held in list(live):
        held.close()
    del live[:]


def _before_fork() -> None:
    for held in live:
        held.before_fork()


def _after_fork(child: bool) -> None:
    for held in live:
        held.after_fork(child)
