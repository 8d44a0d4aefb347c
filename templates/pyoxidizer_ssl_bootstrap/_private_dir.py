"""The private directory of <subject-hash>.N files that contexts look issuers up in.

OpenSSL opens files in a ``capath`` lazily, at each handshake, for as long as a context lives, so
whatever sits at that path then is trusted. The promise kept here: no other local user can
redirect, swap, re-create or shrink what a context looks into.

- Made fresh (exclusive ``mkdir`` 0700, 64 random bits in the name) only in a parent owned by us
  or root that others cannot write (or can only with the sticky bit), through the parent's
  descriptor; opened without following links and checked to be ours before anything is written.
- Named by descriptor, not by name: on Linux contexts get ``/proc/self/fd/N`` for a descriptor
  held for the process's life, so removing or renaming the directory and creating another under
  its name changes nothing. Elsewhere the real path is used only when every directory above it
  is writable by no one but us and root; otherwise certificates are loaded per context.
- Made only while real and effective ids are the same (never during a temporary seteuid, when
  it would belong to another user), and owned by that user.
- Checked at every new context: one fstat (same inode, not emptied), the process's ids, and one
  file opened through the very path contexts use. If the directory was emptied or removed
  (tmpfiles, logind's RemoveIPC) or the process now runs as another user, it is rebuilt aside
  and put under the same descriptor with dup2, which heals existing contexts too. If that
  cannot be done (ids changed for a while, a sandbox, a chroot without /proc, no descriptors
  left), new contexts load certificates per context and the trace says so.
- The descriptor contexts name is never closed while the process runs: after a failed rebuild
  it stays on our own emptied or removed directory, which trusts nothing new and to which no
  one else can add; its number can never come to name another directory.
- Held with a shared flock, which systemd-tmpfiles honours; removed by the last holder, never
  reused (``_cleanup``).
"""

from __future__ import annotations

import os
import stat

from . import _cleanup, _platform

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; only the checker reads it
    from typing import Callable

    Note = Callable[[str, str], None]

PREFIX = _cleanup.PREFIX
_DIR_FLAGS = _cleanup.DIR_FLAGS
_NOFOLLOW = _cleanup.NOFOLLOW
_FILE_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
) | getattr(os, "O_BINARY", 0)
_BY_FD = os.mkdir in os.supports_dir_fd and os.unlink in os.supports_dir_fd


class Refused(OSError):
    """A parent or a new directory that must not be used; the message says why."""


class PrivateDir:
    """One private directory: where it is, what contexts are given, and what it should hold."""

    def __init__(
        self,
        parent: str,
        name: str,
        fd: int | None,
        path: str,
        files: list[tuple[str, bytes]],
        prefix: str,
    ) -> None:
        self.parent = parent
        self.name = name
        self.real_path = os.path.join(parent, name)
        self.fd = fd
        self.path = path  # what OpenSSL is given
        self.files = files
        self.prefix = prefix
        # The one place that knows: pid -1 means this process never removes it (not held by a
        # lock of its own, or already closed).
        self.pid = os.getpid()
        self.spare: int | None = None  # the next forked child's lock, between fork's hooks
        self.ids = _platform.ids()  # who made it; a change is noticed at the next context
        self.probe = files[0][0] if files else None
        self.ident = (0, 0)
        self.mtime = 0
        self.remember()

    def _stat(self) -> os.stat_result:
        return os.fstat(self.fd) if self.fd is not None else os.stat(self.real_path)

    def remember(self) -> None:
        """Record what it is now. Its mtime is first set a second back: any later change to
        its entries sets it to the present, so even a change within the file system's clock
        tick (coarse on tmpfs) is seen."""
        import time

        past = time.time_ns() - 1_000_000_000
        target: int | str = (
            self.fd if self.fd is not None and os.utime in os.supports_fd else (self.real_path)
        )
        os.utime(target, ns=(past, past))
        info = self._stat()
        self.ident = (info.st_dev, info.st_ino)
        self.mtime = info.st_mtime_ns

    def intact(self) -> bool:
        """Still the directory written, unchanged, and readable as we are now through the path
        contexts use? (At every new context: one fstat, the ids, one open.)"""
        try:
            info = self._stat()
        except OSError:
            return False
        return (
            (info.st_dev, info.st_ino) == self.ident
            and info.st_nlink > 0
            and info.st_mtime_ns == self.mtime
            and _platform.ids() == self.ids
            and self.readable()
        )

    def readable(self) -> bool:
        """Can OpenSSL open a file through the path contexts were given, now?"""
        return _platform.can_open(self.path, self.probe)

    def repair(self, note: Note) -> bool:
        """After ``intact()`` said no: heal it behind the same path if possible.

        False means new contexts need another plan (the caller builds it; per context when no
        new directory can be made). Its descriptor is never closed here: contexts may name it.
        """
        try:
            info: os.stat_result | None = self._stat()
        except OSError:
            info = None
        if info is None or (info.st_dev, info.st_ino) != self.ident:
            note(
                "private_dir.lost",
                f"private directory {self.path!r}: no longer ours; making a new one",
            )
            _cleanup.forget(self)  # the number may be someone else's now: never touched again
            return False
        now = _platform.ids()
        if now != self.ids and not _platform.ids_settled():
            note(
                "private_dir.ids_changed",
                f"private directory {self.path!r}: the process's ids are temporarily changed "
                f"(uid {now[0]}/{now[1]}, gid {now[2]}/{now[3]}); new contexts load "
                "certificates per context; contexts made before fail closed where they need "
                "it until the ids are back",
            )
            return False
        unchanged = info.st_nlink > 0 and info.st_mtime_ns == self.mtime
        if unchanged and now == self.ids:
            note(
                "private_dir.unreadable",
                f"private directory {self.path!r} can no longer be read through that path "
                "(a sandbox such as Landlock, a chroot without /proc, or the like): new "
                "contexts load certificates per context; contexts made before fail closed where "
                "they need it",
            )
            return False
        if now != self.ids:
            note(
                "private_dir.new_user",
                f"private directory {self.path!r}: the process now runs as uid {now[1]}; "
                "rebuilding",
            )
        else:
            note(
                "private_dir.changed",
                f"private directory {self.path!r} was emptied or removed from outside; rebuilding",
            )
        if self.fd is not None and self.path == _fd_path(self.fd) and self._heal(note):
            return True
        note(
            "private_dir.rebuild_failed",
            f"private directory {self.path!r}: rebuilding failed; contexts made before keep our "
            "own emptied directory, which trusts nothing new, and fail closed where they need "
            "it; new contexts load certificates per context",
        )
        return False

    def _heal(self, note: Note) -> bool:
        """Build a new directory aside, then put it under the same descriptor (dup2, atomic):
        existing contexts see it too, and the number never names anything else meanwhile."""
        assert self.fd is not None
        fresh = create(self.files, note, self.prefix)
        if fresh is None:
            return False
        if fresh.fd is None:
            fresh.close()
            return False
        old = (self.parent, self.name, self.ident)
        _cleanup.forget(fresh)
        try:  # the old directory, to empty it once contexts no longer look into it
            previous: int | None = os.open(".", _DIR_FLAGS, dir_fd=self.fd)
        except OSError:
            previous = None
        os.dup2(fresh.fd, self.fd, inheritable=False)  # the old directory's lock goes with it
        os.close(fresh.fd)
        if previous is not None:
            try:  # fails, harmlessly, if it was another uid's: a later run of that user's
                _cleanup.empty(previous)
            except OSError:
                pass
            os.close(previous)
        self.parent, self.name, self.real_path = fresh.parent, fresh.name, fresh.real_path
        self.ids = fresh.ids
        self.remember()
        _cleanup.remove_by_name(*old)
        note(
            "private_dir.rebuilt",
            f"private directory rebuilt as {self.real_path!r} (uid {self.ids[1]}) "
            f"behind {self.path!r}",
        )
        return True

    def exportable(self) -> bool:
        """True when the real path stays unclaimable by others even after it is removed."""
        return _platform.chain_open_to_others(self.real_path, _platform.EXPORTED) is None

    def before_fork(self) -> None:
        """In the parent, just before fork: a lock of the child's own, taken while the parent
        still holds its own, so no exit of the parent can ever find the directory unheld."""
        self.spare = None
        if self.fd is None or self.pid != os.getpid():
            return
        import fcntl

        try:
            spare = os.open(".", _DIR_FLAGS, dir_fd=self.fd)  # a new description, its own lock
        except OSError:
            return
        try:
            fcntl.flock(spare, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            os.close(spare)
            return
        self.spare = spare

    def after_fork(self, child: bool) -> None:
        """The child holds the directory by the spare lock; the parent lets go of its copy."""
        spare, self.spare = self.spare, None
        if not child:
            if spare is not None:
                os.close(spare)
            return
        if spare is None or self.fd is None:
            self.pid = -1  # not held by a lock of its own: never removed from the child
            return
        try:
            os.dup2(spare, self.fd, inheritable=False)  # same directory: contexts see no change
            os.close(spare)
            self.pid = os.getpid()
        except OSError:
            self.pid = -1

    def close(self) -> None:
        """Remove the directory unless another process still holds it; the last holder does.

        The descriptor itself stays open until the process ends: a context may still name it
        (another thread's handshake during exit), and its number must not name anything else.
        """
        _cleanup.forget(self)
        if self.pid != os.getpid():
            return
        self.pid = -1  # closed: never again
        if self.fd is None:  # no descriptors for directories here (Windows): by name
            _cleanup.remove_tree_by_name(self.real_path)
            return
        import fcntl

        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            info = os.fstat(self.fd)
            if (info.st_dev, info.st_ino) == self.ident:
                _cleanup.empty(self.fd)
                _cleanup.remove_by_name(self.parent, self.name, self.ident)
        except OSError:
            pass  # held by another process, or already gone


def create(files: list[tuple[str, bytes]], note: Note, prefix: str = PREFIX) -> PrivateDir | None:
    """Write ``files`` into a new private directory in the first safe parent; None if none is.

    Every parent passed over is in the trace, with the reason. Only while real and effective
    ids are the same: during a temporary seteuid the directory would be another user's. Never
    in a privileged exec (AT_SECURE) not root's: the caller owns what it would make, chooses
    $TMPDIR, and could fill the directory behind the process's back.
    """
    if not _platform.ids_settled():
        uid, euid, gid, egid = _platform.ids()
        note(
            "private_dir.ids_unsettled",
            f"private directory: not made while the ids are temporarily changed or setuid "
            f"(uid {uid}/{euid}, gid {gid}/{egid}), nor in a privileged exec not root's: it "
            "would belong to a user who could change it; loading "
            "certificates per context instead (same trust, slower)",
        )
        return None
    for entry in _platform.TEMP_PARENTS:
        parent = os.environ.get(entry[1:], "") if entry.startswith("$") else entry
        if not parent or not os.path.isdir(parent):
            continue
        parent = os.path.realpath(parent)  # what is checked is what is used and exported
        try:
            made = _make_in(parent, files, prefix, note) if _BY_FD else _make_by_name(parent, files)
        except OSError as exc:
            note(
                "private_dir.parent_refused",
                f"private directory: {parent!r} passed over: {exc.strerror or exc}",
            )
            continue
        _cleanup.register(made, note)
        return made
    note(
        "private_dir.none",
        "no private temporary directory: loading certificates per context instead "
        "(same trust, slower)",
    )
    return None


def _fd_path(fd: int) -> str | None:
    return _platform.FD_PATH % fd if _platform.FD_PATH else None


def _make_in(parent: str, files: list[tuple[str, bytes]], prefix: str, note: Note) -> PrivateDir:
    import fcntl

    parent_fd = os.open(parent, _DIR_FLAGS)
    try:
        opened = os.fstat(parent_fd)
        why = _platform.open_to_others(opened, _platform.TEMP_PARENT)
        if not stat.S_ISDIR(opened.st_mode):
            why = "not a directory"
        named = os.stat(parent)
        if not why and (named.st_dev, named.st_ino) != (opened.st_dev, opened.st_ino):
            why = "its name changed while it was opened"
        if why:
            raise Refused(why)
        _cleanup.sweep_stale(parent_fd, note)
        name = _mkdir_unique(parent_fd, prefix)
        fd = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=parent_fd)
    finally:
        os.close(parent_fd)
    info = os.fstat(fd)
    try:
        if _platform.open_to_others(info, _platform.MINE) or not stat.S_ISDIR(info.st_mode):
            raise Refused("the new directory is not private to us")
        fcntl.flock(fd, fcntl.LOCK_SH)
        fd = _platform.move_high(fd)
        path = _fd_path(fd) if fd >= _platform.HIGH_FD else None  # a low number is soon reused
        if path is None or os.stat(path).st_ino != info.st_ino:
            if _platform.chain_open_to_others(parent, _platform.EXPORTED):
                raise Refused("others can write above it and no descriptor path names it")
            path = os.path.join(parent, name)
        for file_name, data in files:
            _write_new(file_name, data, fd)
        made = PrivateDir(parent, name, fd, path, files, prefix)
        if not made.readable():
            raise Refused(f"contexts could not read it through {path!r} (a sandbox?)")
        return made
    except BaseException:
        _cleanup.empty(fd)
        _cleanup.remove_by_name(parent, name, (info.st_dev, info.st_ino))
        os.close(fd)
        raise


def _make_by_name(parent: str, files: list[tuple[str, bytes]]) -> PrivateDir:
    """Where directories have no descriptors (Windows: the per-user TEMP is private by ACL)."""
    path = os.path.join(parent, PREFIX + os.urandom(8).hex())
    os.mkdir(path, 0o700)
    for file_name, data in files:
        fd = os.open(os.path.join(path, file_name), _FILE_FLAGS, 0o600)
        _platform.write_all(fd, data)
    return PrivateDir(parent, os.path.basename(path), None, path, files, PREFIX)


def _mkdir_unique(parent_fd: int, prefix: str) -> str:
    for _ in range(100):  # 64 random bits: a taken name is someone else's; draw again
        name = prefix + os.urandom(8).hex()
        try:
            os.mkdir(name, 0o700, dir_fd=parent_fd)
            return name
        except FileExistsError:
            continue
    raise FileExistsError("no free name after 100 tries")


def _write_new(name: str, data: bytes, dir_fd: int) -> None:
    _platform.write_all(os.open(name, _FILE_FLAGS, 0o600, dir_fd=dir_fd), data)
