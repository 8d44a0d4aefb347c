"""A distro's own hashed directory (Fedora 37+/RHEL 9 ``directory-hash``) is used as it is.

Real handshakes in the Fedora 43 layout: contexts get update-ca-trust's directory as their
capath, and nothing is split; the trace says so. Only a faithful copy of the bundle counts:
stale (a root missing, or one the bundle dropped), renumbered, misnamed, linked outside, owned
by another user or in a directory others can write, it is refused (the trace says why) and
the bundle is split as before: the system CA still verifies, a CA only the directory held
never does.
"""

from __future__ import annotations

import pytest

from support.layouts import RHEL_HASHED, code_in_layout, require_namespaces
from support.steps import keys, step, steps


@pytest.fixture(autouse=True)
def _namespaces() -> None:
    require_namespaces()


# Python run as root inside the layout before install(): D is the distro's hashed directory,
# LAST the file holding the test CA (the layout's bundle ends with it), CORP the PEM of a CA
# the bundle does not hold.
TAMPER = {
    "used as it is": ("", None),
    "a root of the bundle missing": (
        "for n in hashed_names_of('cert020.pem'): os.unlink(os.path.join(D, n))\n"
        "os.unlink(os.path.join(D, 'cert020.pem'))",
        "1 of the bundle's certificates missing, 0 others",
    ),
    "a root the bundle does not hold": (
        "open(os.path.join(D, 'corp.pem'), 'wb').write(CORP)\n"
        "subprocess.run(['openssl', 'rehash', D], check=True)",
        "0 of the bundle's certificates missing, 1 others",
    ),
    "an entry another user owns": (
        "os.chown(os.path.join(D, 'cert003.pem'), 65534, 65534)",
        "': another user could change it; splitting",
    ),
    "a link another user owns": (
        "os.lchown(os.path.join(D, hashed_names_of('cert003.pem')[0]), 65534, 65534)",
        "belongs to another user",
    ),
    "a link leading out of the directory": (
        "name = hashed_names_of('cert003.pem')[0]\n"
        "os.unlink(os.path.join(D, name))\n"
        "os.symlink('/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', os.path.join(D, name))",
        "leads out of the directory",
    ),
    "a link through a directory another user owns, back into it (round 3)": (
        "name = hashed_names_of('cert003.pem')[0]\n"
        "os.mkdir('/var/tmp/hop')\n"
        "os.symlink(os.path.join(D, 'cert003.pem'), '/var/tmp/hop/cert003.pem')\n"
        "os.lchown('/var/tmp/hop/cert003.pem', 65534, 65534)\n"
        "os.chown('/var/tmp/hop', 65534, 65534)\n"
        "os.unlink(os.path.join(D, name))\n"
        "os.symlink('/var/tmp/hop/cert003.pem', os.path.join(D, name))",
        "is a link through another directory",
    ),
    "a directory others can write": (
        "os.chmod(D, 0o777)",
        "another user could change it; skipped",
    ),
    "a FIFO under a hash name": (
        "os.mkfifo(os.path.join(D, 'deadbeef.0'))",
        "'deadbeef.0' is not a file",
    ),
    "entries numbered with a gap": (
        "name = hashed_names_of('cert003.pem')[0]\n"
        "os.rename(os.path.join(D, name), os.path.join(D, name[:9] + '7'))",
        "numbered with gaps",
    ),
    "names from another hash": (
        "names = [n for n in os.listdir(D) if '.' in n and not n.endswith('.pem')]\n"
        "for n in names: os.rename(os.path.join(D, n), os.path.join(D, 'x' + n))\n"
        "for n in names:\n"
        "    os.rename(os.path.join(D, 'x' + n),\n"
        "              os.path.join(D, '%08x' % (int(n[:8], 16) ^ 1) + n[8:]))",
        "is not named by its subject hash",
    ),
}

BODY = """
import subprocess
D = {directory!r}
CORP = {corp!r}

def hashed_names_of(target):
    return [n for n in os.listdir(D) if os.path.islink(os.path.join(D, n))
            and os.readlink(os.path.join(D, n)) == target]

{tamper}
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
OUT["system"] = handshake()
PORT = {corp_port}
OUT["corp"] = handshake()
OUT["capath"] = report.capath
OUT["cafile"] = report.cafile
OUT["origin"] = report.origin
OUT["trace"] = report.trace
OUT["steps"] = report.steps
"""


@pytest.mark.parametrize("case", list(TAMPER))
def test_hashed_directory_used_only_as_a_faithful_copy(
    case, tmp_path, home, server, corp_server, corp_ca, bundle_pem, render_bootstrap
):
    tamper, reason = TAMPER[case]
    body = BODY.format(
        directory=RHEL_HASHED,
        corp=corp_ca.cert_pem.bytes(),
        tamper=tamper,
        corp_port=int(corp_server.rsplit(":", 1)[1].strip("/")),
    )
    out = code_in_layout(
        "fedora43-directory-hash", tmp_path, home, server, bundle_pem, render_bootstrap(), body
    )
    trace = "\n".join(out["trace"])
    assert out["system"] == "ok", trace  # the system CA verifies either way
    assert out["corp"] != "ok", trace  # a CA only the directory may hold never does
    if reason is None:
        assert (out["origin"], out["capath"], out["cafile"]) == (RHEL_HASHED, RHEL_HASHED, None)
        assert RHEL_HASHED in step(out, "sources.system.hashed_dir.used")
        assert "plan.private_dir" not in keys(out)  # no private one made
    else:
        assert "sources.system.hashed_dir.used" not in keys(out)
        # refused for its content, or before reading it for who may change it; the words say why
        refused = steps(out, "sources.system.hashed_dir.refused")
        refused += steps(out, "sources.system.changeable")
        assert any(RHEL_HASHED in words and reason in words for words in refused), trace
        assert out["origin"] == "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", trace
        assert out["capath"] and RHEL_HASHED not in out["capath"]


CHILD = """
import socket, ssl, sys
ctx = ssl.create_default_context()
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as sock:
    with ctx.wrap_socket(sock, server_hostname="localhost"):
        print("ok")
"""

EXPORT_BODY = """
import subprocess
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
OUT["exported"] = [os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")]
child = [sys.executable, "-I", "-c", {child!r}, str(PORT)]
OUT["child"] = subprocess.run(child, capture_output=True, text=True).stdout.strip()
env = {{k: v for k, v in os.environ.items() if not k.startswith("SSL_CERT")}}
OUT["child_without"] = subprocess.run(child, capture_output=True, text=True, env=env).stdout
"""


def test_export_env_gives_children_the_distros_own_directory(
    tmp_path, home, server, bundle_pem, render_bootstrap
):
    """A root-owned path: valid after the binary exits, and no other user can claim it."""
    boot = render_bootstrap(export_env=True)
    body = EXPORT_BODY.format(child=CHILD)
    out = code_in_layout("fedora43-directory-hash", tmp_path, home, server, bundle_pem, boot, body)
    assert out["exported"] == [None, RHEL_HASHED]
    assert out["child"] == "ok"  # a stock child verifies through it
    assert out["child_without"] == ""  # and fails in this layout without it
