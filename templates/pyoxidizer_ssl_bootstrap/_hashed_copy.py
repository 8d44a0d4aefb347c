"""Whether a distro's hashed directory is a faithful copy of its bundle (``_sources.hashed_copy``).

Loaded only on a host whose bundle has such a directory beside it (Fedora 37+, RHEL 9), after
the directory itself passed the ownership rule every store we read must pass. What is checked
here is every entry OpenSSL could open in it, and that together they hold the bundle's
certificates: no more, no fewer.
"""

from __future__ import annotations

import os
import stat

from . import _platform, _x509

MAX_ENTRY_BYTES = 1024 * 1024
# Through links, as OpenSSL opens them; never blocking on a FIFO planted under a hash name.
_ENTRY_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
# An entry as p11-kit and openssl rehash write it: one certificate, nothing else.
_BEGIN = b"-----BEGIN CERTIFICATE-----"
_END = b"-----END CERTIFICATE-----\n"


def unlike(
    directory: str, data: bytes, seen: dict[str, os.stat_result] | None = None
) -> str | None:
    """Why ``directory`` is not a hashed copy of the PEM text ``data`` (None when it is).

    Each XXXXXXXX.N entry is opened as OpenSSL will open it (through its link, which must be ours
    or root's and name a file of this directory directly, as p11-kit and openssl rehash write
    them) and must turn out a regular file of this very directory (its inode among the
    directory's own files, listed for free by scandir), ours or root's, writable by no one else.
    Raises OSError for an entry that cannot be read.

    ``seen``: given a dict, a faithful copy fills it with what its verdict depends on, each
    (l)stat taken before anything it covers was read (``_verdicts``): the directory's (key
    ""), each XXXXXXXX.N entry's, and that of each file a link names. Left empty when a link
    names its file otherwise than by that file's own name in the directory (through another
    link)."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        own_dir = os.fstat(fd)
        device = own_dir.st_dev
        entries = []
        links = set()
        inodes = set()
        owns = {}  # each entry's lstat
        files = {}  # the inode of each entry that is no link
        with os.scandir(fd) as listing:
            for item in listing:
                link = item.is_symlink()
                if _x509.is_hash_name(item.name):
                    own = item.stat(follow_symlinks=False)
                    if link and _platform.open_to_others(own, _platform.STORE):
                        return f"{item.name!r} belongs to another user"
                    entries.append(item.name)
                    owns[item.name] = own
                    if link:
                        links.add(item.name)
                if not link:
                    inodes.add(item.inode())
                    files[item.name] = item.inode()
        if not entries:
            return "no XXXXXXXX.N entries"
        texts: dict[int, bytes] = {}
        numbers: dict[str, list[int]] = {}
        sample = ("", 0)
        depends: dict[str, os.stat_result] = {"": own_dir}
        named = True  # every link names its file by that file's own name here
        for name in entries:
            entry = os.open(name, _ENTRY_FLAGS, dir_fd=fd)
            try:
                info = os.fstat(entry)
                if info.st_dev != device or info.st_ino not in inodes:
                    return f"{name!r} leads out of the directory"
                depends.setdefault(name, owns[name])
                if name in links:
                    target = os.readlink(name, dir_fd=fd)
                    if _through_elsewhere(target, directory):
                        return f"{name!r} is a link through another directory"
                    base = os.path.basename(target)
                    if files.get(base) == info.st_ino:
                        depends.setdefault(base, info)  # the first fstat: before it was read
                    else:
                        named = False
                if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                    return f"{name!r} is not a file of at most {MAX_ENTRY_BYTES} bytes"
                if _platform.open_to_others(info, _platform.STORE):
                    return f"{name!r}: another user could change it"
                if info.st_ino not in texts:
                    texts[info.st_ino] = os.read(entry, info.st_size)
            finally:
                os.close(entry)
            sample = (name, info.st_ino)
            stem, _, number = name.partition(".")
            numbers.setdefault(stem, []).append(int(number))
    finally:
        os.close(fd)
    if any(sorted(n) != list(range(len(n))) for n in numbers.values()):
        return "entries numbered with gaps (OpenSSL stops at the first)"
    held = set()
    for text in texts.values():
        if text.startswith(_BEGIN) and text.endswith(_END) and text.count(b"-----") == 4:
            held.add(text[len(_BEGIN) : -len(_END)])  # one plain block: what pem_bodies gives
        else:
            held.update(_x509.pem_bodies(text))
    wanted = set(_x509.pem_bodies(data))
    if held != wanted:
        missing, others = len(wanted - held), len(held - wanted)
        return f"{missing} of the bundle's certificates missing, {others} others"
    name, inode = sample
    blocks = _x509.pem_blocks(texts[inode])
    if not blocks or _x509.subject_hash(blocks[0][1]) != name[:8]:
        return f"{name!r} is not named by its subject hash"
    if seen is not None and named:
        seen.update(depends)
    return None


def _through_elsewhere(target: str, directory: str) -> bool:
    """True when a link's text goes through another directory, even if it ends back here.

    OpenSSL follows the link at each handshake: a link on the way that another user may
    re-point (round 3: one in a shared sticky directory) would change what it opens after the
    check. A bare name, or this directory's own path and a name, has no other link on the way.
    """
    return "/" in target and os.path.dirname(target) != directory
