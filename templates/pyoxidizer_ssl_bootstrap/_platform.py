"""Where each operating system keeps its CA store, and what it offers for private files.

The one module that knows about platforms. The store lists merge Go's crypto/x509
(root_linux.go, root_bsd.go, root_solaris.go), openssl-probe and truststore. Order matters only
when a host has several: the first usable entry wins.
"""

from __future__ import annotations

import os
import sys

# Bundle files, one distro family per comment.
CA_FILES = (
    # Debian, Ubuntu, Gentoo, Arch, Alpine, Void; NixOS (a symlink chain into /nix/store)
    "/etc/ssl/certs/ca-certificates.crt",
    # Fedora 43+, RHEL/CentOS 7+ (the extracted p11-kit bundle)
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    # Fedora <= 42, RHEL/CentOS 6-9, Amazon Linux
    "/etc/pki/tls/certs/ca-bundle.crt",
    # Fedora <= 34, RHEL <= 9 (compat link)
    "/etc/pki/tls/cert.pem",
    # openSUSE, SLES
    "/etc/ssl/ca-bundle.pem",
    "/var/lib/ca-certificates/ca-bundle.pem",
    # OpenELEC
    "/etc/pki/tls/cacert.pem",
    # Alpine, Arch, OpenBSD, FreeBSD 12.2+, macOS, RHEL 9+
    "/etc/ssl/cert.pem",
    # FreeBSD and DragonFly (ca_root_nss)
    "/usr/local/share/certs/ca-root-nss.crt",
    "/usr/local/etc/ssl/cert.pem",
    # NetBSD
    "/etc/openssl/certs/ca-certificates.crt",
    # illumos, Solaris 11.2+
    "/etc/certs/ca-certificates.crt",
    # OmniOS
    "/etc/ssl/cacert.pem",
)

# Directories of OpenSSL-hashed certificates (XXXXXXXX.N), used when no bundle file is found.
CA_DIRS = (
    # Debian, Ubuntu, SLES 10/11, FreeBSD 12.2+ (certctl)
    "/etc/ssl/certs",
    # openSUSE, SLES 12+
    "/var/lib/ca-certificates/openssl",
    # Fedora, RHEL
    "/etc/pki/tls/certs",
    # FreeBSD, DragonFly
    "/usr/local/share/certs",
    # NetBSD
    "/etc/openssl/certs",
    # illumos, Solaris
    "/etc/certs/CA",
)

# Hashed directories a distro's trust tool writes from the same anchors as a bundle, keyed by the
# bundle's real path: used as OpenSSL's capath in place of splitting the bundle at run time, once
# checked to hold exactly the bundle's certificates (_sources.hashed_copy).
CA_HASHED_DIRS = {
    # Fedora 37+, RHEL 9+, CentOS Stream 9+ (update-ca-trust: p11-kit's pem-directory-hash)
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem": (
        "/etc/pki/ca-trust/extracted/pem/directory-hash"
    ),
    # openSUSE, SLES 12+ (update-ca-certificates; also /etc/ssl/certs, OpenSSL's own directory)
    "/var/lib/ca-certificates/ca-bundle.pem": "/var/lib/ca-certificates/pem",
}
# Debian, Ubuntu, Alpine, Arch: their hashed /etc/ssl/certs is OpenSSL's default directory,
# read as such before any candidate is looked at.

# On Windows, ssl.SSLContext.load_default_certs() already reads the OS store: that is the system.
NATIVE_STORE = sys.platform == "win32"

# Where the private hashed directory may go, in order; "$NAME" is an environment variable. An
# explicit TMPDIR wins; then memory-backed places (creating ~150 files there takes ~2 ms, on a
# disk it can take tens); never the working directory (tempfile's last resort).
if sys.platform == "win32":
    TEMP_PARENTS = ("$TMP", "$TEMP", "$LOCALAPPDATA")
else:
    TEMP_PARENTS = ("$TMPDIR", "$XDG_RUNTIME_DIR", "/dev/shm", "/tmp", "/var/tmp", "/usr/tmp")

# A path that names an open directory by its descriptor, not by its name: what OpenSSL is given on
# Linux, so that nobody can swap the directory behind a name (None where the OS has no such path;
# the private directory then needs a parent chain only this user and root can write).
FD_PATH = "/proc/self/fd/%d" if sys.platform.startswith("linux") else None

# Where file owners and modes say who may change a path. On Windows they do not (st_uid is 0 and
# the mode bits ignore ACLs); the per-user temporary directory is private by its ACL there.
POSIX_OWNERS = os.name == "posix"


def env_is_trusted() -> bool:
    """False in a privileged exec: like OpenSSL's secure_getenv, ignore SSL_CERT_*.

    The caller of a setuid program controls its environment but not its privileges; letting them
    choose the CAs it trusts would hand them its TLS connections. "Privileged" is a fact of the
    exec, as for OpenSSL: the kernel's AT_SECURE (setuid/setgid exec, file capabilities), never
    ids the program changes for a while later (a daemon's temporary seteuid). Where there is no
    auxiliary vector to read (not Linux, or no /proc and no libc to ask), real and effective ids
    differing at the first call is the best sign left.
    """
    global _secure
    if not POSIX_OWNERS:
        return True
    if _secure is None:
        secure = _at_secure()
        if secure is None:
            secure = os.getuid() != os.geteuid() or os.getgid() != os.getegid()
        _secure = secure
    return not _secure


_secure: bool | None = None  # decided once: a process's privileges at exec do not change
_AT_SECURE = 23  # the kernel's auxiliary-vector key: 1 when exec gave privileges (setuid, caps)


def _at_secure() -> bool | None:
    """Linux's AT_SECURE, what glibc's secure_getenv reads; None where it cannot be read."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open("/proc/self/auxv", "rb") as f:
            data = f.read()
    except OSError:  # e.g. not readable under a temporary seteuid; or no /proc (chroot)
        return _getauxval_secure()
    width = 8 if sys.maxsize > 2**32 else 4
    for offset in range(0, len(data) - 2 * width + 1, 2 * width):
        key = int.from_bytes(data[offset : offset + width], sys.byteorder)
        if key == _AT_SECURE:
            return int.from_bytes(data[offset + width : offset + 2 * width], sys.byteorder) != 0
    return False


def _getauxval_secure() -> bool | None:
    """libc's getauxval(AT_SECURE) (glibc, musl), where /proc/self/auxv cannot be read."""
    try:
        import ctypes

        getauxval = ctypes.CDLL(None).getauxval
        getauxval.restype = ctypes.c_ulong
        getauxval.argtypes = (ctypes.c_ulong,)
        return bool(getauxval(_AT_SECURE))
    except Exception:  # no ctypes in this binary, or no getauxval
        return None


def ids_settled() -> bool:
    """True when real and effective ids are the same (as at an ordinary exec): not a setuid
    program, and not in the middle of a temporary seteuid/setegid.

    Nor a privileged exec that is not root's (AT_SECURE: file capabilities, a setuid program
    that made all its ids another user's): its caller may own, and so change, whatever "we"
    own, and cannot attach a debugger to it; so it owns nothing safely but what root owns and
    makes no private directory (round 3). Root's ids all 0 are settled either way.
    """
    if not POSIX_OWNERS:
        return True
    uid, gid = os.getuid(), os.getgid()
    if uid != os.geteuid() or gid != os.getegid():
        return False
    return (uid == 0 and gid == 0) or env_is_trusted()


def ids() -> tuple[int, int, int, int]:
    """(real uid, effective uid, real gid, effective gid); zeros where owners mean nothing."""
    if not POSIX_OWNERS:
        return (0, 0, 0, 0)
    return (os.getuid(), os.geteuid(), os.getgid(), os.getegid())


# Descriptors from here up are rarely reused by an app that closes what it does not own: a
# directory named to contexts as /proc/self/fd/N is held at such a number, or not named so.
HIGH_FD = 512


def move_high(fd: int) -> int:
    """``fd`` moved to a number >= HIGH_FD (close-on-exec), or left as it is where it cannot be
    (a low `ulimit -n`): the caller checks which."""
    import fcntl

    try:
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, HIGH_FD)
    except (OSError, AttributeError):
        return fd
    os.close(fd)
    return high


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (however many writes that takes), then close ``fd``,
    also when a write fails: the one writer of the private directory's and the cache's files."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def can_open(directory: str, name: str | None) -> bool:
    """Can OpenSSL, with the process's credentials and view of the file system now, open
    ``name`` through the path contexts were given? (A sandbox, a chroot, a uid change.) True
    where there is nothing to open."""
    if name is None:
        return True
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        os.close(os.open(os.path.join(directory, name), flags))
    except OSError:
        return False
    return True


# -- Who may change an entry: one predicate, three policies ------------------------------------
#
# "May a user other than us and root change this entry?" is asked of three kinds of path, and
# the answer differs on purpose. Each policy is named here; every caller passes one.


class Policy:
    """How strict the ownership question is for one kind of path."""

    def __init__(
        self,
        name: str,
        sticky_ok: bool,
        links: str,
        walk: str,
        bits: int,
        sticky_entry: bool = False,
    ) -> None:
        self.name = name
        self.sticky_ok = sticky_ok  # a sticky directory (/tmp): others may add, not replace
        # Whether sticky excuses the entry itself too, not only the directories above it: for
        # a parent we make our own entry in, yes; for a store, no (others could add to it).
        self.sticky_entry = sticky_entry
        self.links = links  # "refuse": any link fails; "owner": a link's owner counts, not mode
        self.walk = walk  # "entry": this one only; "literal": and every directory above it
        self.bits = bits  # mode bits no one but the owner may have


# The parent the private directory is made in: root's or ours, written by others only with the
# sticky bit (/dev/shm, /tmp). Its real path is used, so a link is not what is checked.
TEMP_PARENT = Policy(
    "temp parent", sticky_ok=True, links="refuse", walk="entry", bits=0o022, sticky_entry=True
)
# A path exported to children (SSL_CERT_DIR): it must stay unclaimable after we exit, so nothing
# up the literal path may be a link or writable by others, sticky or not.
EXPORTED = Policy("exported chain", sticky_ok=False, links="refuse", walk="literal", bits=0o022)
# A store we read that OpenSSL would not (a distro candidate, a certifi on disk): a sticky
# directory above it is fine (only an entry's owner may rename it there), a sticky store itself
# is not (others may add entries to it); a link's own mode means nothing, its owner does.
STORE = Policy("store we read", sticky_ok=True, links="owner", walk="literal", bits=0o022)
# What we made for ourselves (the private directory, its leftovers): ours alone, no other bits.
MINE = Policy("ours alone", sticky_ok=False, links="refuse", walk="entry", bits=0o077)


def open_to_others(info: os.stat_result, policy: Policy, above: bool = False) -> str | None:
    """Why another user could change the entry with this (l)stat under ``policy``; None if not.

    ``above``: the entry is a directory above the path asked about (where a sticky bit is
    enough under a sticky policy), not the path itself (where it is only for ``sticky_entry``).
    """
    import stat

    if not POSIX_OWNERS:
        return None  # ACLs decide there; the per-user temporary directory is private by its ACL
    link = stat.S_ISLNK(info.st_mode)
    if link and policy.links == "refuse":
        return "a symbolic link"
    # "Us" is the process's own user only while its ids are settled: during a temporary
    # seteuid(65534), or in a setuid program, uid 65534 or the caller is not us; only root is.
    mine = os.geteuid() if ids_settled() else 0
    owners = (mine,) if policy is MINE else (mine, 0)
    if info.st_uid not in owners:
        whose = "not us" if policy is MINE else "neither us nor root"
        return f"owned by uid {info.st_uid}, {whose}"
    if link:
        return None
    sticky = policy.sticky_ok and stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX
    if sticky and not (above or policy.sticky_entry):
        if info.st_mode & policy.bits:
            return "sticky but writable by other users: they may add to it"
        sticky = False
    if info.st_mode & policy.bits and not sticky:
        if policy.sticky_ok:
            return "writable by other users without the sticky bit"
        return "open to other users" if policy is MINE else "writable by other users"
    return None


def chain_open_to_others(path: str, policy: Policy) -> str | None:
    """Why another user could change ``path`` or (for a walking policy) anything above it."""
    if not POSIX_OWNERS:
        return None
    above = False  # until an entry that exists: whoever may write a missing one's parent
    while True:  # may create it there, sticky or not (round 3)
        try:
            info: os.stat_result | None = os.lstat(path)
        except OSError:
            if policy is not STORE:
                return "cannot be examined"
            info = None  # a store not there (yet): what is above decides who may make it
        why = open_to_others(info, policy, above) if info is not None else None
        if why:
            return f"{path!r}: {why}"
        parent = os.path.dirname(path)
        if policy.walk == "entry" or parent == path:
            return None
        path, above = parent, above or info is not None
