"""Distro CA layouts, reproduced as root in a private mount namespace.

Each layout is a list of filesystem steps applied inside ``unshare -m`` on overlays of /etc,
/usr/local and /var (so the host is never touched). OpenSSL's compiled-in directory is replaced
by a tmpfs whose cert.pem and certs point at /etc/ssl/cert.pem and /etc/ssl/certs: exactly what
python-build-standalone's OpenSSL looks at, so the local CPython behaves like a PyOxidizer binary.
The layout's bundle holds a few real roots plus the test's CA, where that distro keeps it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .env import need
from .tls import VERIFY_SOURCE, port_of

_HELPER = Path(__file__).with_name("in_layout.py")

# Where each distro keeps its store (see templates/pyoxidizer_ssl_bootstrap/_platform.py.j2).
RHEL_BUNDLE = "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
# Fedora 37+ / RHEL 9: update-ca-trust also writes the same anchors as an OpenSSL capath.
RHEL_HASHED = "/etc/pki/ca-trust/extracted/pem/directory-hash"


@dataclass(frozen=True)
class Layout:
    """A distro's CA layout: the steps, whether stock OpenSSL verifies there, the expected origin.

    ``origin`` None means the OpenSSL defaults themselves are usable (the report then names them).
    """

    name: str
    steps: tuple[tuple[str, ...], ...]
    native_works: bool
    origin: str | None


LAYOUTS = {
    layout.name: layout
    for layout in (
        Layout(
            "debian",
            (("bundle", "/etc/ssl/certs/ca-certificates.crt"), ("hashed", "/etc/ssl/certs")),
            native_works=True,
            origin=None,
        ),
        Layout(
            "rhel7",
            (
                ("bundle", RHEL_BUNDLE),
                ("link", "/etc/pki/tls/certs/ca-bundle.crt", RHEL_BUNDLE),
                ("link", "/etc/pki/tls/cert.pem", "certs/ca-bundle.crt"),
                ("link", "/etc/ssl/certs", "../pki/tls/certs"),
            ),
            native_works=False,
            origin=RHEL_BUNDLE,
        ),
        Layout(
            "fedora32",
            (
                ("bundle", "/etc/pki/tls/certs/ca-bundle.crt"),
                ("garbage", "/etc/pki/tls/certs/Makefile"),
                ("link", "/etc/ssl/certs", "../pki/tls/certs"),
            ),
            native_works=False,
            origin="/etc/pki/tls/certs/ca-bundle.crt",
        ),
        Layout(
            "fedora43",
            (
                ("bundle", RHEL_BUNDLE),
                ("dir", "/etc/pki/tls/certs"),
                ("link", "/etc/ssl/certs", "../pki/tls/certs"),
            ),
            native_works=False,
            origin=RHEL_BUNDLE,
        ),
        Layout(
            "fedora43-directory-hash",
            (
                ("bundle", RHEL_BUNDLE),
                ("hashed", RHEL_HASHED),
                ("dir", "/etc/pki/tls/certs"),
                ("link", "/etc/ssl/certs", "../pki/tls/certs"),
            ),
            native_works=False,
            origin=RHEL_HASHED,
        ),
        Layout(
            "rhel9",
            (
                ("bundle", RHEL_BUNDLE),
                ("hashed", RHEL_HASHED),
                ("link", "/etc/pki/tls/certs/ca-bundle.crt", RHEL_BUNDLE),
                ("link", "/etc/pki/tls/cert.pem", RHEL_BUNDLE),
                ("link", "/etc/ssl/cert.pem", "/etc/pki/tls/cert.pem"),
                ("link", "/etc/ssl/certs", "../pki/tls/certs"),
            ),
            native_works=True,
            origin=RHEL_HASHED,
        ),
        Layout(
            "opensuse",
            (
                ("bundle", "/var/lib/ca-certificates/ca-bundle.pem"),
                ("pemdir", "/var/lib/ca-certificates/pem"),
                ("link", "/etc/ssl/ca-bundle.pem", "/var/lib/ca-certificates/ca-bundle.pem"),
                ("link", "/etc/ssl/certs", "/var/lib/ca-certificates/pem"),
            ),
            native_works=False,
            origin="/etc/ssl/ca-bundle.pem",
        ),
        Layout(
            "sles-hashed-only",
            (
                ("hashed", "/var/lib/ca-certificates/openssl"),
                ("pemdir", "/var/lib/ca-certificates/pem"),
                ("link", "/etc/ssl/certs", "/var/lib/ca-certificates/pem"),
            ),
            native_works=False,
            origin="/var/lib/ca-certificates/openssl",
        ),
        Layout(
            "alpine",
            (
                ("bundle", "/etc/ssl/certs/ca-certificates.crt"),
                ("link", "/etc/ssl/cert.pem", "certs/ca-certificates.crt"),
            ),
            native_works=True,
            origin=None,
        ),
        Layout(
            "arch",
            (
                ("bundle", "/etc/ca-certificates/extracted/tls-ca-bundle.pem"),
                ("link", "/etc/ssl/cert.pem", "../ca-certificates/extracted/tls-ca-bundle.pem"),
                ("hashed", "/etc/ssl/certs"),
            ),
            native_works=True,
            origin=None,
        ),
        Layout(
            "nixos",
            (
                ("bundle", "/var/nix/store/1a2b-nss-cacert-3.98/etc/ssl/certs/ca-bundle.crt"),
                (
                    "link",
                    "/var/nix/store/3c4d-etc/etc/ssl/certs/ca-certificates.crt",
                    "/var/nix/store/1a2b-nss-cacert-3.98/etc/ssl/certs/ca-bundle.crt",
                ),
                ("link", "/etc/static", "/var/nix/store/3c4d-etc/etc"),
                (
                    "link",
                    "/etc/ssl/certs/ca-certificates.crt",
                    "/etc/static/ssl/certs/ca-certificates.crt",
                ),
                (
                    "link",
                    "/etc/ssl/certs/ca-bundle.crt",
                    "/etc/static/ssl/certs/ca-certificates.crt",
                ),
            ),
            native_works=False,
            origin="/etc/ssl/certs/ca-certificates.crt",
        ),
        Layout(
            "freebsd",
            (
                ("bundle", "/usr/local/share/certs/ca-root-nss.crt"),
                ("link", "/usr/local/etc/ssl/cert.pem", "/usr/local/share/certs/ca-root-nss.crt"),
            ),
            native_works=False,
            origin="/usr/local/share/certs/ca-root-nss.crt",
        ),
        Layout(
            "empty-unhashed-certs",
            (("dir", "/etc/ssl/certs"), ("bundle", "/etc/pki/tls/certs/ca-bundle.crt")),
            native_works=False,
            origin="/etc/pki/tls/certs/ca-bundle.crt",
        ),
        Layout(
            "dangling-cert-pem",
            (
                ("link", "/etc/ssl/cert.pem", "/etc/ssl/gone.pem"),
                ("dir", "/etc/ssl/certs"),
                ("bundle", "/etc/ssl/ca-bundle.pem"),
            ),
            native_works=False,
            origin="/etc/ssl/ca-bundle.pem",
        ),
        Layout(
            "garbage-cert-pem",
            (("garbage", "/etc/ssl/cert.pem"), ("bundle", RHEL_BUNDLE)),
            native_works=False,
            origin=RHEL_BUNDLE,
        ),
        Layout("no-store", (), native_works=False, origin=None),
        Layout(
            "rhel7-read-only-tmp",
            (
                ("bundle", RHEL_BUNDLE),
                ("link", "/etc/ssl/certs", "../pki/tls/certs"),
                ("read-only", "/tmp"),
                ("read-only", "/dev/shm"),
                ("read-only", "/var/tmp"),
            ),
            native_works=False,
            origin=RHEL_BUNDLE,
        ),
    )
}

# Distro layouts where the test CA sits in the system store.
STORE_LAYOUTS = tuple(name for name in LAYOUTS if name not in ("no-store", "rhel7-read-only-tmp"))


def namespaces_available() -> bool:
    """True when this process can make private mount namespaces with overlayfs (root)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    return probe.returncode == 0


def require_namespaces() -> None:
    need(namespaces_available(), "needs root and unshare -m (mount namespaces) for distro layouts")


def run_in_layout(
    layout: Layout | str,
    argv: list[str],
    env: dict[str, str],
    work: Path,
    bundle_pem: bytes,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with ``env`` inside ``layout``; the layout's bundle holds ``bundle_pem``."""
    if isinstance(layout, str):
        layout = LAYOUTS[layout]
    work.mkdir(parents=True, exist_ok=True)
    (work / "bundle.pem").write_bytes(bundle_pem)
    spec = {"work": str(work), "steps": [list(s) for s in layout.steps], "env": env, "argv": argv}
    spec_path = work / "spec.json"
    spec_path.write_text(json.dumps(spec))
    return subprocess.run(
        ["unshare", "-m", sys.executable, str(_HELPER), str(spec_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def request_in_layout(
    layout: str,
    work: Path,
    home: str,
    url: str,
    bundle_pem: bytes,
    boot: Path,
    install: bool = True,
    client: str = "urllib",
    python: str = sys.executable,
    paths: tuple[str, ...] = (),
    **env: str,
) -> dict[str, object]:
    """GET ``url`` with ``client`` from a fresh interpreter inside ``layout``; return its result.

    ``boot`` is the directory holding the rendered bootstrap; ``paths`` go first on sys.path
    (before it); ``env`` adds variables to an otherwise empty environment.
    """
    from .clients import client_script, parse_result
    from .env import CERTIFI_PARENT, clean_env

    script = client_script(client, url, [*paths, str(boot), CERTIFI_PARENT], install=install)
    proc = run_in_layout(
        layout, [python, "-I", "-c", script], clean_env(home, **env), work, bundle_pem
    )
    assert proc.returncode == 0, proc.stderr
    return parse_result(proc.stdout)


_PROGRAM_HEAD = """\
import json, os, socket, ssl, sys
sys.path[:0] = {paths!r}
URL = {url!r}
PORT = {port!r}
OUT = {{}}

{verify}
def handshake(ctx=None):
    return verify(ctx or ssl.create_default_context(), PORT)

"""


def code_in_layout(
    layout: Layout | str,
    work: Path,
    home: str,
    url: str,
    bundle_pem: bytes,
    boot: Path,
    body: str,
    env: dict[str, str] | None = None,
    prefix: list[str] | None = None,
) -> dict[str, object]:
    """Run ``body`` (which fills the dict OUT; ``handshake()`` checks one TLS connection to
    ``url``) in a fresh interpreter inside ``layout``; return OUT. ``env`` is the whole
    environment (default: a clean one); ``prefix`` goes before the interpreter (e.g. setpriv).
    """
    from .env import CERTIFI_PARENT, clean_env

    paths = [str(boot), CERTIFI_PARENT]
    head = _PROGRAM_HEAD.format(paths=paths, url=url, port=port_of(url), verify=VERIFY_SOURCE)
    code = head + body + '\nprint("RESULT " + json.dumps(OUT))\n'
    argv = [*(prefix or []), sys.executable, "-I", "-c", code]
    proc = run_in_layout(layout, argv, clean_env(home) if env is None else env, work, bundle_pem)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, object] = json.loads(proc.stdout.split("RESULT ", 1)[1])
    return result
