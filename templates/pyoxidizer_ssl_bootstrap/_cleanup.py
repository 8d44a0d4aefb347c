"""Removing private directories: at exit, at SIGTERM, in forked children, and leftovers.

A directory is removed only through descriptors and only if it is still the one that was made
(same device and inode): unlink never follows a link, and nothing outside it is touched. The
last process holding a directory's flock removes it; a killed run's leftover, held by nobody and
older than a minute, is removed by the next run of the same user.
"""

from __future__ import annotations

import os
import stat

from . import _x509

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from typing import Callable

    from ._private_dir import PrivateDir

    Note = Callable[[str, str], None]

PREFIX = "pyoxidizer-ssl-"
CERTIFI_PREFIX = PREFIX + "certifi-"  # the private copy of certifi's bundle (_patches)
STALE_SECONDS = 60  # a younger unlocked directory may be one another run is still setting up
DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

live: list[PrivateDir] = []  # every directory this process holds, for fork and exit


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
                or info.st_uid != os.geteuid()
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


def on_first_directory(note: Note) -> None:
    """Once per process: clean up at exit and at SIGTERM; re-own directories in forked children."""
    global _hooks_installed
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
    try:
        import _signal as signal  # type: ignore[import-not-found]  # builtin; signal.py: ~1 ms

        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
            note(
                "cleanup.sigterm.handler",
                "SIGTERM: private directories are removed before the process ends",
            )
        else:
            note(
                "cleanup.sigterm.app_handler",
                "SIGTERM: the app's own handler stays; its exit removes them",
            )
    except (ValueError, OSError, AttributeError):  # not the main thread, or no SIGTERM
        note(
            "cleanup.sigterm.none",
            "SIGTERM: no handler installed here; a later run removes what is left",
        )


def forget(made: PrivateDir) -> None:
    if made in live:
        live.remove(made)


def close_all() -> None:
    for made in list(live):
        made.close()
    del live[:]


def _before_fork() -> None:
    for made in live:
        try:
            made.before_fork()
        except OSError:
            made.spare = None


def _after_fork(child: bool) -> None:
    for made in live:
        try:
            made.after_fork(child)
        except OSError:
            made.pid = -1  # never remove from here what another process may still use


def _on_sigterm(signum: int, frame: object) -> None:
    """Clean up, then die of SIGTERM exactly as without a handler (same status for the parent)."""
    import _signal as signal

    close_all()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
