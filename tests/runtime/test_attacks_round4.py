"""Round 4: another local user and an operator attack Fedora's directory-hash and its kept verdict.

Same set-up as test_hashed_copy_kept.py (whose head this reuses): the Fedora 43 layout in a
private mount namespace with a fresh sticky /dev/shm, a victim's successive runs as root with
HOME=/var/vhome (root's, 0700), the attacker uid 65534 through ``setpriv`` with a CA of its own
and a loopback server it issued a certificate for. Every handshake is real; the attacker's
server must be rejected every time. SECURITY.md ("Round 4") maps each finding to its test here:
the ones that succeeded against commit 2a3deda are marked "Finding"; the others failed there
already and are kept as regression tests.
"""

from __future__ import annotations

import pytest
from test_hashed_copy_kept import _HEAD, _RUN, ATTACKER, FEDORA, GOOD, KEPT, KNOWN, USED

from support.layouts import RHEL_BUNDLE, RHEL_HASHED, code_in_layout
from support.steps import keys, steps
from support.tls import VERIFY_SOURCE, port_of

pytestmark = pytest.mark.usefixtures("namespaces")

# What the body adds to test_hashed_copy_kept's head: a handshake with every port from a
# context, and a stock child (no bootstrap) that verifies with what it inherits.
_MORE = """
VERIFY_SRC = {verify!r}

def every(ctx):
    return [verify(ctx, port) for port in PORTS]

CHILD = "import json, socket, ssl, sys\\n" + VERIFY_SRC + (
    "print(json.dumps([verify(ssl.create_default_context(), int(p)) for p in sys.argv[1:]]))\\n")

def child():
    argv = [sys.executable, "-I", "-c", CHILD, *map(str, PORTS)]
    proc = subprocess.run(argv, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)

"""


@pytest.fixture
def victim(tmp_path, home, server, corp_server, corp_ca, evil_server, evil_ca, bundle_pem):
    """Run ``body`` as root in the Fedora 43 layout after the heads above; return its OUT.
    PORTS: the system CA's server, the corporate CA's (a CA the bundle does not hold), then
    the attacker's."""

    def _run(body: str, boot) -> dict:
        head = _HEAD.format(
            hashed=RHEL_HASHED,
            bundle=RHEL_BUNDLE,
            run=_RUN.format(verify=VERIFY_SOURCE),
            ports=[port_of(server), port_of(corp_server), port_of(evil_server)],
            corp=corp_ca.cert_pem.bytes(),
            evil=evil_ca.cert_pem.bytes(),
            attacker=ATTACKER,
        )
        head += _MORE.format(verify=VERIFY_SOURCE)
        return code_in_layout(FEDORA, tmp_path, home, server, bundle_pem, boot, head + body)

    return _run


def _refusals(run: dict) -> list[str]:
    return steps(run, "sources.system.hashed_dir.refused") + steps(run, "sources.system.changeable")


# The attacker's own hashed directory, made in the shared /dev/shm (stdin: its CA).
_EVIL_DIR = "mkdir /dev/shm/evil && cat > /dev/shm/evil/evil.pem && openssl rehash /dev/shm/evil"


@pytest.mark.parametrize("export_env", [False, True])
def test_a_link_met_half_way_to_the_hashed_directory_is_never_followed_again(
    export_env, victim, render_bootstrap
):
    """Finding 1. Root's ``directory-hash`` is a link into the shared sticky /dev/shm, where
    uid 65534's own link leads on to root's real directory (the round-3 mistake, one level up:
    round 3 fixed it for a candidate bundle and for each entry's link, not for the directory
    itself). The link met half-way is on neither the path as written (root's link) nor the
    real path (root's directory), so both walks passed; the check read root's faithful copy;
    and contexts were given the name as written, which OpenSSL resolves again at each
    handshake. After the decision the user re-points its link at a directory holding its CA:
    with ``export_env`` a child's SSL_CERT_DIR named the same link. Now the real path is
    resolved once, walked, checked, kept as the verdict's key, given to contexts and
    exported."""
    body = (
        "REAL = '/etc/pki/real-hash'\n"
        "os.rename(D, REAL)\n"
        "os.symlink('/dev/shm/hop', D)\n"
        "OUT['linked'] = attacker('ln -s ' + REAL + ' /dev/shm/hop')\n"
        "import ssl\n"
        "import pyoxidizer_ssl_bootstrap\n"
        "report = pyoxidizer_ssl_bootstrap.install()\n"
        "ctx = ssl.create_default_context()\n"
        "OUT['before'] = every(ctx)\n"
        "OUT['child_before'] = child()\n"
        "OUT['repointed'] = attacker(" + repr(_EVIL_DIR) + " + ' && ln -sfn /dev/shm/evil "
        "/dev/shm/hop')\n"
        "OUT['after'] = every(ctx) + every(ssl.create_default_context())\n"
        "OUT['child_after'] = child()\n"
        "OUT['exported'] = os.environ.get('SSL_CERT_DIR')\n"
        "OUT['origin'], OUT['capath'] = report.origin, report.capath\n"
        "OUT['steps'] = report.steps\n"
    )
    out = victim(body, render_bootstrap(export_env=export_env))
    assert out["linked"] == 0 and out["repointed"] == 0  # the attacker's steps worked
    assert USED in keys(out), out["steps"]
    assert out["before"] == GOOD, out["steps"]
    assert out["after"] == GOOD * 2, out["steps"]  # the attacker's server stays rejected
    assert (out["origin"], out["capath"]) == ("/etc/pki/real-hash",) * 2
    if export_env:
        assert out["exported"] == "/etc/pki/real-hash"
        assert out["child_before"] == out["child_after"] == GOOD
    else:
        assert out["exported"] is None
