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

import os
import shutil

import pytest
from test_hashed_copy_kept import GOOD, KEPT, KNOWN, USED, _refusals, victim_runner

from support.env import need
from support.steps import keys, steps
from support.tls import VERIFY_SOURCE

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

def test_ca_alone_in(directory):
    # no bundle file, so candidate directories are tried; the test CA (the bundle's last) alone
    # in a new directory of root's
    os.rename(BUNDLE, '/etc/moved-bundle.pem')
    data = open('/etc/moved-bundle.pem', 'rb').read()
    os.mkdir(directory)
    with open(os.path.join(directory, 'ca.pem'), 'wb') as f:
        f.write(data[data.rindex(b'-----BEGIN CERTIFICATE-----'):])

def first_context():
    # the bootstrap installed once the layout (and the attacker's first step) is in place
    import ssl
    import pyoxidizer_ssl_bootstrap
    report = pyoxidizer_ssl_bootstrap.install()
    ctx = ssl.create_default_context()
    OUT['before'] = every(ctx)
    return report, ctx

def contexts_after(report, ctx):
    # once the attacker re-pointed its link: the first context again, and a new one
    import ssl
    OUT['after'] = every(ctx) + every(ssl.create_default_context())
    OUT['origin'], OUT['capath'] = report.origin, report.capath
    OUT['steps'] = report.steps

"""


@pytest.fixture
def victim(request):
    """test_hashed_copy_kept's victim, with ``every`` and ``child`` added to its head."""
    return victim_runner(request, _MORE.format(verify=VERIFY_SOURCE))


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
        "report, ctx = first_context()\n"
        "OUT['child_before'] = child()\n"
        "OUT['repointed'] = attacker(" + repr(_EVIL_DIR) + " + ' && ln -sfn /dev/shm/evil "
        "/dev/shm/hop')\n"
        "contexts_after(report, ctx)\n"
        "OUT['child_after'] = child()\n"
        "OUT['exported'] = os.environ.get('SSL_CERT_DIR')\n"
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


REJECTED = ["unable to get local issuer certificate"] * 3


def test_a_root_distrusted_in_the_bundle_before_the_directory_is_rewritten(
    victim, render_bootstrap
):
    """Regression (refused before round 4). update-ca-trust distrusts a root: it renames a new
    bundle into place first and rewrites directory-hash after (here: killed in between). A
    stale verdict would keep trusting the directory, which still holds the root the bundle
    dropped; the bundle's new inode and ctime send the next run to the whole check, which
    refuses the directory ("1 others"), and the root is no longer trusted anywhere."""
    body = (
        "OUT['first'] = run('settled')\n"
        "OUT['second'] = run()\n"
        "data = open(BUNDLE, 'rb').read()\n"
        "last = data.rindex(b'-----BEGIN CERTIFICATE-----')\n"  # the test CA, the bundle's last
        "with open(BUNDLE + '.new', 'wb') as f:\n"
        "    f.write(data[:last])\n"
        "os.chmod(BUNDLE + '.new', 0o644)\n"
        "os.rename(BUNDLE + '.new', BUNDLE)\n"
        "OUT['after'] = run()\n"
    )
    out = victim(body, render_bootstrap())
    assert KNOWN in keys(out["second"]) and out["second"]["tls"] == GOOD
    after = out["after"]
    assert KNOWN not in keys(after) and USED not in keys(after), after["steps"]
    assert any("0 of the bundle's certificates missing, 1 others" in w for w in _refusals(after))
    assert after["tls"] == REJECTED, after["steps"]  # the distrusted root is gone


def test_a_directory_above_the_store_opened_to_others_after_the_verdict(victim, render_bootstrap):
    """Regression (refused before round 4). After a run kept its verdict, root makes the
    directory holding both the bundle and directory-hash writable by all (a mistake). uid
    65534 moves both aside and puts its own in their place: a bundle with its CA appended and
    a directory that is a faithful copy of it (so the content check alone would pass). The
    ownership walk runs at every run, verdict or not: both are refused, and the attacker's
    server is rejected."""
    body = (
        "OUT['first'] = run('settled')\n"
        "OUT['second'] = run()\n"
        "os.chmod(os.path.dirname(D), 0o777)\n"
        "OUT['swapped'] = attacker(\n"
        "    'cd ' + os.path.dirname(D) + ' && mv directory-hash old-hash'\n"
        "    ' && mkdir directory-hash'\n"
        "    ' && cp old-hash/*.pem directory-hash/ && cat > directory-hash/evil.pem'\n"
        "    ' && openssl rehash directory-hash && cat ' + BUNDLE + ' directory-hash/evil.pem'\n"
        "    ' > bundle.new && mv -f bundle.new ' + BUNDLE)\n"
        "time.sleep(3.2)\n"  # settled: a verdict could be kept of what the attacker made
        "OUT['after'] = run()\n"
        "OUT['again'] = run()\n"
    )
    out = victim(body, render_bootstrap())
    assert KNOWN in keys(out["second"])
    assert out["swapped"] == 0  # the attack's own steps worked
    for run in (out["after"], out["again"]):
        assert KNOWN not in keys(run) and USED not in keys(run), run["steps"]
        assert KEPT not in keys(run)
        assert "sources.system.changeable" in keys(run), run["steps"]
        assert run["tls"][2] != "ok", run["steps"]  # the attacker's server is rejected


# Forge, as root for uid 65534 (which cannot run this test's interpreter), a verdict that
# matches the directory as it is now, after the attacker appended its CA to an entry root gave
# it (every byte of a verdict is public), and put it in ``cache`` owned by the attacker.
_FORGE = """
path = last_file()
os.chown(path, ATTACKER, ATTACKER)
assert attacker('cat >> ' + path) == 0
sys.path.insert(0, PATHS[0])
from pyoxidizer_ssl_bootstrap import _verdicts
names = sorted(os.listdir(D))

def forged_line(euid):  # a verdict names the effective uid of the run that kept it
    saved = os.geteuid
    os.geteuid = lambda: euid
    try:
        state = _verdicts._state(D, names, BUNDLE)
    finally:
        os.geteuid = saved
    return (_verdicts.VERDICTS_FORMAT + '\\n' + D.encode().hex() + ' '
            + '\\0'.join(names).encode().hex() + ' ' + state + '\\n')

def forge(base, cache, euid=0):
    os.makedirs(cache, mode=0o700)
    with open(os.path.join(cache, 'HASHED'), 'w') as f:
        f.write(forged_line(euid))
    os.chmod(os.path.join(cache, 'HASHED'), 0o600)
    for top, dirs, files in os.walk(base):
        for name in [top, *(os.path.join(top, n) for n in files)]:
            os.chown(name, ATTACKER, ATTACKER)
"""


@pytest.mark.parametrize("where", ["XDG_RUNTIME_DIR", "HOME after a /dev/shm squat"])
def test_an_operator_naming_another_user_s_cache_gets_no_verdict_from_it(
    where, victim, render_bootstrap
):
    """Regression (refused before round 4). The operator points XDG_RUNTIME_DIR, or HOME with
    no XDG variable (after uid 65534 squatted the victim's /dev/shm/pyoxidizer-ssl-0, so the
    run passes on to HOME), at a directory uid 65534 made, holding a verdict forged to match
    the directory as it is now, with its CA appended to an entry root gave it. Those cache
    directories are refused (``cache.refused``), their verdict never read; the whole check
    refuses the directory and the attacker's server is rejected."""
    theirs = "/dev/shm/evilrun" if where == "XDG_RUNTIME_DIR" else "/dev/shm/evilhome"
    if where == "XDG_RUNTIME_DIR":
        setup = "forge('/dev/shm/evilrun', '/dev/shm/evilrun/pyoxidizer-ssl')\n"
        env = "{'XDG_RUNTIME_DIR': '/dev/shm/evilrun'}"
    else:
        setup = (
            "forge('/dev/shm/evilhome', '/dev/shm/evilhome/.cache/pyoxidizer-ssl')\n"
            "assert attacker('mkdir -m 700 /dev/shm/pyoxidizer-ssl-0') == 0\n"
        )
        env = "{'HOME': '/dev/shm/evilhome', 'XDG_CACHE_HOME': ''}"
    body = _FORGE + setup + f"OUT['attacked'] = run(**{env})\n"
    out = victim(body, render_bootstrap())
    attacked = out["attacked"]
    assert any(theirs in w for w in steps(attacked, "cache.refused")), attacked["steps"]
    assert KNOWN not in keys(attacked) and USED not in keys(attacked), attacked["steps"]
    assert any("another user could change it" in w for w in _refusals(attacked)), attacked
    assert attacked["tls"] == GOOD, attacked["steps"]


_CAPPED_RUN = """
import shutil
shutil.copytree(PATHS[0], '/dev/shm/boot')
subprocess.run(['chmod', '-R', 'a+rX', '/dev/shm/boot'], check=True)
CAPPED, PLAIN = '/dev/shm/capped-python3', '/dev/shm/plain-python3'
for exe in (CAPPED, PLAIN):
    shutil.copyfile(os.path.realpath('/usr/bin/python3'), exe)
    os.chmod(exe, 0o755)
subprocess.run(['setcap', 'cap_net_bind_service+ep', CAPPED], check=True)
os.mkdir('/var/caller', 0o700)
forge('/var/caller', '/var/caller/pyoxidizer-ssl', euid=ATTACKER)

def as_caller(exe):
    env = {'PATH': '/usr/bin:/bin', 'HOME': '/var/caller', 'XDG_RUNTIME_DIR': '/var/caller',
           'LANG': 'C.UTF-8'}
    argv = ['setpriv', '--reuid', str(ATTACKER), '--regid', str(ATTACKER), '--clear-groups',
            exe, '-I', '-c', RUN, json.dumps(['/dev/shm/boot']), json.dumps(PORTS), '']
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.split('RUN ', 1)[1])

OUT['capped'] = as_caller(CAPPED)
OUT['plain'] = as_caller(PLAIN)
"""


def test_a_capability_exec_reads_no_verdict_its_caller_forged(victim, render_bootstrap):
    """Regression (refused before round 4; only a unit test with AT_SECURE faked showed it).
    uid 65534 runs a real ``cap_net_bind_service+ep`` exec (a copy of the system python3)
    with XDG_RUNTIME_DIR and HOME at its own cache, holding a verdict forged for its uid to
    match the directory as it is after it appended its CA to an entry root gave it. The
    privileged exec reads and keeps no verdict (``…verdict_unavailable``), checks the
    directory whole and refuses it; the attacker's server is rejected. The control: the same
    user's plain run of the same python believes its own cache (the forgery is exact) and
    trusts its CA, which it could have had with SSL_CERT_FILE too: it fooled only itself."""
    real = "/usr/bin/python3"  # the distro's: its stdlib is readable by any uid
    need(
        os.path.exists(real) and bool(shutil.which("setcap")),
        "needs the system /usr/bin/python3 and setcap (libcap2-bin)",
    )
    out = victim(_FORGE + _CAPPED_RUN, render_bootstrap())
    capped, plain = out["capped"], out["plain"]
    assert "sources.system.hashed_dir.verdict_unavailable" in keys(capped), capped["steps"]
    assert KNOWN not in keys(capped) and USED not in keys(capped), capped["steps"]
    assert any("another user could change it" in w for w in _refusals(capped)), capped
    assert capped["tls"] == GOOD, capped["steps"]
    assert KNOWN in keys(plain), plain["steps"]
    assert plain["tls"][2] == "ok", plain["steps"]


def test_a_link_met_half_way_to_a_candidate_directory_is_never_followed_again(
    victim, render_bootstrap
):
    """Finding 2 (found attacking finding 1's fix). The same half-way link on a distro
    candidate directory (``_platform.CA_DIRS``, used when no bundle file is found): root's
    ``/var/lib/ca-certificates/openssl`` is a link into the shared sticky /dev/shm, where uid
    65534's link leads on to root's hashed directory of the system CA. Both walks and the
    check of every entry passed, and contexts were given the name as written; after the
    decision the user re-points its link at a directory holding its CA. Now the real path is
    resolved once, and is what is walked, checked and given to contexts."""
    body = (
        "test_ca_alone_in('/etc/real-certs')\n"  # no bundle file: candidate directories
        "subprocess.run(['openssl', 'rehash', '/etc/real-certs'], check=True)\n"
        "os.makedirs('/var/lib/ca-certificates', exist_ok=True)\n"
        "os.symlink('/dev/shm/hop', '/var/lib/ca-certificates/openssl')\n"
        "OUT['linked'] = attacker('ln -s /etc/real-certs /dev/shm/hop')\n"
        "report, ctx = first_context()\n"
        "OUT['repointed'] = attacker(" + repr(_EVIL_DIR) + " + ' && ln -sfn /dev/shm/evil "
        "/dev/shm/hop')\n"
        "contexts_after(report, ctx)\n"
    )
    out = victim(body, render_bootstrap())
    assert out["linked"] == 0 and out["repointed"] == 0  # the attacker's steps worked
    assert out["before"] == GOOD, out["steps"]
    assert out["after"] == GOOD * 2, out["steps"]  # the attacker's server stays rejected
    # named as written, given to contexts by the real path that was checked
    assert out["origin"] == "/var/lib/ca-certificates/openssl", out["steps"]
    assert out["capath"] == "/etc/real-certs", out["steps"]


def test_a_link_met_half_way_by_an_entry_of_a_candidate_directory(victim, render_bootstrap):
    """Finding 3 (found attacking finding 2's fix). The same half-way link, one level down:
    an entry of a candidate directory is root's link to ``/etc/foo/ca.pem``, where
    ``/etc/foo`` is root's link into the shared sticky /dev/shm and uid 65534's link there
    leads on to root's directory. Round 3 walks each entry's link chain and the directory each
    link leads into, as written and resolved: the link met half-way is on neither. OpenSSL
    follows the chain again whenever a context first looks up that issuer; after the user
    re-points its link at a file holding the system CA and its own, a new context loads both
    (every certificate of a hashed file it opens) and trusts the attacker's server. Now every
    link met on the way to an entry's file, however deep, must be one no other user could
    change, in a directory no other user could change."""
    body = (
        "test_ca_alone_in('/etc/real-store')\n"  # no bundle file: candidate directories
        "name = subprocess.run(['openssl', 'x509', '-hash', '-noout', '-in',\n"
        "                       '/etc/real-store/ca.pem'], capture_output=True, text=True,\n"
        "                      check=True).stdout.strip() + '.0'\n"
        "os.symlink('/dev/shm/hop', '/etc/foo')\n"
        "OUT['linked'] = attacker('ln -s /etc/real-store /dev/shm/hop')\n"
        "os.makedirs('/var/lib/ca-certificates/openssl')\n"
        "os.symlink('/etc/foo/ca.pem', '/var/lib/ca-certificates/openssl/' + name)\n"
        "report, ctx = first_context()\n"
        "OUT['repointed'] = attacker('mkdir /dev/shm/evil'\n"
        "    ' && cat /etc/real-store/ca.pem - > /dev/shm/evil/ca.pem'\n"
        "    ' && ln -sfn /dev/shm/evil /dev/shm/hop')\n"
        "contexts_after(report, ctx)\n"
    )
    out = victim(body, render_bootstrap())
    assert out["linked"] == 0 and out["repointed"] == 0  # the attacker's steps worked
    assert out["after"][2] != "ok" and out["after"][5] != "ok", out["steps"]
    assert "sources.system.entry_changeable" in keys(out), out["steps"]
    assert out["origin"] != "/var/lib/ca-certificates/openssl", out["steps"]
