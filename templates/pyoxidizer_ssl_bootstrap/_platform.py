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
    """False in a setuid/setgid process: like OpenSSL's secure_getenv, ignore SSL_CERT_*.

    The caller of a setuid program controls its environment but not its privileges; letting them
    choose the CAs it trusts would hand them its TLS connections.
    """
    global _secure
    if not POSIX_OWNERS:
        return True
    if _secure is None:
        _secure = os.getuid() != os.geteuid() or os.getgid() != os.getegid() or _at_secure()
    return not _secure


_secure: bool | None = None  # decided once: a process's privileges at exec do not change
_AT_SECURE = 23  # the kernel's auxiliary-vector key: 1 when exec gave privileges (setuid, caps)


def _at_secure() -> bool:
    """Linux's AT_SECURE, what glibc's secure_getenv reads; also catches file capabilities."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        with open("/proc/self/auxv", "rb") as f:
            data = f.read()
    except OSError:  # a privileged process may not read its own auxv: treat it as one
        return os.path.isdir("/proc/self")
    width = 8 if sys.maxsize > 2**32 else 4
    for offset in range(0, len(data) - 2 * width + 1, 2 * width):
        key = int.from_bytes(data[offset : offset + width], sys.byteorder)
        if key == _AT_SECURE:
            return int.from_bytes(data[offset + width : offset + 2 * width], sys.byteorder) != 0
    return False
