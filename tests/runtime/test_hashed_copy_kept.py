"""Fedora's directory-hash verdict, kept between runs (#20.4): used while nothing it read changed.

Real handshakes in the Fedora 43 layout, a victim's successive runs as root with HOME=/var/vhome
(root's, 0700), so that what one run keeps in its cache directory is what the next one finds.
A run that finds the verdict it kept reads no entry (no ``_x509`` either); every change to what
the check read — an entry, a link, the directory, the bundle, rewritten in place with its mtime
put back or not — makes the next run check the whole directory again, and refuse it for the
same reason as a run with no verdict would (``test_hashed_copy.TAMPER``). Another user (uid
65534) who was given an entry after the verdict, or who made the cache directory a run would
read its verdicts from, never gets its CA trusted.

The first run of each test sets ``_verdicts.RACY_NS`` to 0: the layout was written moments
before, and a verdict is otherwise kept only 3 s after the last change to what it read (one
test waits for that instead, to show the rule itself); every later run uses the real rules.
"""

from __future__ import annotations

import pytest
from test_hashed_copy import TAMPER

from support.layouts import LAYOUTS, RHEL_BUNDLE, RHEL_HASHED, Layout, code_in_layout
from support.steps import keys, steps
from support.tls import VERIFY_SOURCE, port_of

pytestmark = pytest.mark.usefixtures("namespaces")

ATTACKER = 65534
FEDORA = Layout(
    "fedora43-directory-hash-vhome",
    (*LAYOUTS["fedora43-directory-hash"].steps, ("dir", "/var/vhome")),
    native_works=False,
    origin=RHEL_HASHED,
)
KNOWN = "sources.system.hashed_dir.verdict_known"
KEPT = "sources.system.hashed_dir.verdict_kept"
USED = "sources.system.hashed_dir.used"

# One run of the binary: install(), one context, a handshake with each port, its trace.
_RUN = """
import json, os, socket, ssl, sys
sys.path[:0] = json.loads(sys.argv[1])
{verify}
import pyoxidizer_ssl_bootstrap
if sys.argv[3] == "settled":
    from pyoxidizer_ssl_bootstrap import _verdicts
    _verdicts.RACY_NS = 0
report = pyoxidizer_ssl_bootstrap.install()
ctx = ssl.create_default_context()
out = {{"tls": [verify(ctx, port) for port in json.loads(sys.argv[2])], "steps": report.steps,
        "origin": report.origin, "capath": report.capath,
        "x509": "pyoxidizer_ssl_bootstrap._x509" in sys.modules}}
print("RUN " + json.dumps(out))
"""

# Runs as root inside the layout (code_in_layout's head: json, os, sys, OUT).
_HEAD = """
import subprocess, time
D, BUNDLE, RUN, PORTS = {hashed!r}, {bundle!r}, {run!r}, {ports!r}
CORP, EVIL, ATTACKER = {corp!r}, {evil!r}, {attacker!r}
PATHS = sys.path[:2]
HOME = "/var/vhome"
os.chmod(HOME, 0o700)
os.makedirs(HOME + "/.cache", mode=0o700, exist_ok=True)

def run(mode="", **env):
    base = {{"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": HOME, "LANG": "C.UTF-8",
             "XDG_CACHE_HOME": HOME + "/.cache"}}
    base.update(env)
    argv = [sys.executable, "-I", "-c", RUN, json.dumps(PATHS), json.dumps(PORTS), mode]
    proc = subprocess.run(argv, env=base, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.split("RUN ", 1)[1])

def hashed_names_of(target):
    return [n for n in os.listdir(D) if os.path.islink(os.path.join(D, n))
            and os.readlink(os.path.join(D, n)) == target]

def last_file():
    # the file of the test CA: the layout's bundle ends with it
    return os.path.join(D, max(n for n in os.listdir(D) if n.endswith(".pem")))

def attacker(script):
    argv = ["setpriv", "--reuid", str(ATTACKER), "--regid", str(ATTACKER), "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "sh", "-c", script]
    return subprocess.run(argv, input=EVIL, capture_output=True).returncode

def mtime_arg(path):
    ns = os.stat(path).st_mtime_ns
    return "@%d.%09d" % (ns // 10**9, ns % 10**9)

"""

# Changes only a kept verdict could miss (nothing a check of the directory would not see).
KEPT_TAMPER = {
    "an entry rewritten in place, its size and mtime put back": (
        "path = os.path.join(D, 'cert003.pem')\n"
        "old = os.stat(path)\n"
        "assert len(CORP) <= old.st_size\n"
        "with open(path, 'r+b') as f:\n"
        "    f.write(CORP + b'\\n' * (old.st_size - len(CORP)))\n"
        "os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))\n"
        "assert os.stat(path).st_size == old.st_size",
        "1 of the bundle's certificates missing, 1 others",
    ),
    "a root dropped from the bundle in place, its size and mtime put back": (
        "old = os.stat(BUNDLE)\n"
        "block = open(os.path.join(D, 'cert003.pem'), 'rb').read().rstrip(b'\\n')\n"
        "data = open(BUNDLE, 'rb').read()\n"
        "assert block in data\n"
        "with open(BUNDLE, 'r+b') as f:\n"
        "    f.write(data.replace(block, b'\\n' * len(block)))\n"
        "os.utime(BUNDLE, ns=(old.st_atime_ns, old.st_mtime_ns))",
        "0 of the bundle's certificates missing, 1 others",
    ),
    "a link re-pointed at another file of the directory": (
        "name = hashed_names_of('cert003.pem')[0]\n"
        "os.unlink(os.path.join(D, name))\n"
        "os.symlink('cert004.pem', os.path.join(D, name))",
        "1 of the bundle's certificates missing, 0 others",
    ),
}

CASES = {**TAMPER, **KEPT_TAMPER}


def victim_runner(request: pytest.FixtureRequest, more: str = ""):
    """``run(body, boot)``: ``body`` run as root in the Fedora 43 layout after the head above
    (and ``more``), returning its OUT. PORTS: the system CA's server, then the corporate CA's
    (a CA the bundle does not hold), then the attacker's. The fixtures are the caller's
    (test_attacks_round4.py runs the same victim with a head of its own added)."""
    get = request.getfixturevalue
    server, corp_server, evil_server = (get(n) for n in ("server", "corp_server", "evil_server"))
    head = _HEAD.format(
        hashed=RHEL_HASHED,
        bundle=RHEL_BUNDLE,
        run=_RUN.format(verify=VERIFY_SOURCE),
        ports=[port_of(server), port_of(corp_server), port_of(evil_server)],
        corp=get("corp_ca").cert_pem.bytes(),
        evil=get("evil_ca").cert_pem.bytes(),
        attacker=ATTACKER,
    )
    tmp_path, home, bundle_pem = get("tmp_path"), get("home"), get("bundle_pem")

    def _run(body: str, boot) -> dict:
        return code_in_layout(FEDORA, tmp_path, home, server, bundle_pem, boot, head + more + body)

    return _run


@pytest.fixture
def victim(request):
    """``victim_runner``'s run, with the head above."""
    return victim_runner(request)


def _refusals(run: dict) -> list[str]:
    return steps(run, "sources.system.hashed_dir.refused") + steps(run, "sources.system.changeable")


GOOD = ["ok", "unable to get local issuer certificate", "unable to get local issuer certificate"]


@pytest.mark.parametrize("case", list(CASES))
def test_a_kept_verdict_is_used_until_anything_it_read_changes(case, victim, render_bootstrap):
    tamper, reason = CASES[case]
    body = (
        "OUT['first'] = run('settled')\n"
        "OUT['second'] = run()\n" + tamper + "\nOUT['after'] = run()\n"
    )
    out = victim(body, render_bootstrap())
    first, second, after = out["first"], out["second"], out["after"]
    assert KEPT in keys(first) and KNOWN not in keys(first), first["steps"]
    assert KNOWN in keys(second) and KEPT not in keys(second), second["steps"]
    assert not second["x509"]  # nothing of the directory parsed: no _x509 loaded
    for run in (first, second):
        assert USED in keys(run) and (run["origin"], run["capath"]) == (RHEL_HASHED, RHEL_HASHED)
        assert run["tls"] == GOOD, run["steps"]
    assert after["tls"] == GOOD, after["steps"]  # the system CA verifies either way
    if reason is None:
        assert KNOWN in keys(after)
        return
    assert KNOWN not in keys(after) and USED not in keys(after), after["steps"]
    assert any(RHEL_HASHED in words and reason in words for words in _refusals(after)), after
    assert after["origin"] == RHEL_BUNDLE and RHEL_HASHED not in (after["capath"] or "")


def test_a_verdict_is_kept_only_once_what_it_read_settled(victim, render_bootstrap):
    """A change in the same clock tick as the check could keep every ctime: nothing changed
    less than 3 s before (here: the layout just written) is kept; the first run after is."""
    body = "OUT['racy'] = run()\ntime.sleep(3.2)\nOUT['first'] = run()\nOUT['second'] = run()\n"
    out = victim(body, render_bootstrap())
    assert "sources.system.hashed_dir.verdict_not_kept" in keys(out["racy"])
    assert KEPT not in keys(out["racy"]) and KNOWN not in keys(out["racy"])
    assert KEPT in keys(out["first"]) and KNOWN in keys(out["second"])
    for run in out.values():
        assert USED in keys(run) and run["tls"] == GOOD, run["steps"]


def test_an_entry_given_to_another_user_after_the_verdict_is_not_trusted(victim, render_bootstrap):
    """Root hands the test CA's file to uid 65534 (a mistake) after a run kept its verdict;
    that user appends its own CA and puts the mtime back. OpenSSL loads every certificate of
    a hashed file it opens: with the verdict used, the attacker's server would be accepted
    after one good handshake. The ctime moved: the next run checks the whole directory and
    refuses it (another user could change an entry), so the bundle is split instead."""
    body = (
        "OUT['first'] = run('settled')\n"
        "OUT['second'] = run()\n"
        "path = last_file()\n"
        "os.chown(path, ATTACKER, ATTACKER)\n"
        "put_back = 'touch -m -d ' + mtime_arg(path) + ' ' + path\n"
        "OUT['appended'] = attacker('cat >> ' + path + ' && ' + put_back)\n"
        "OUT['after'] = run()\n"
    )
    out = victim(body, render_bootstrap())
    assert KNOWN in keys(out["second"])
    assert out["appended"] == 0  # the attack itself worked
    after = out["after"]
    assert KNOWN not in keys(after) and USED not in keys(after), after["steps"]
    assert any("another user could change it" in words for words in _refusals(after)), after
    assert after["tls"] == GOOD, after["steps"]  # the attacker's server is rejected


@pytest.mark.parametrize("where", ["/dev/shm", "XDG_CACHE_HOME"])
def test_a_verdict_in_a_cache_directory_another_user_made_is_not_read(
    where, victim, render_bootstrap
):
    """uid 65534 was given the test CA's file (root's mistake) and appended its CA; it then
    makes the cache directory a run would use — the victim's /dev/shm/pyoxidizer-ssl-0 where
    no XDG variable is set, or one an operator names with XDG_CACHE_HOME — holding a verdict
    forged to match the directory as it now is (every byte of it is public: the lstats, the
    boot id, the version). Root writes the forgery here for that user (the attacker cannot run
    this test's interpreter), with the attacker as its owner. The cache directory is refused
    (not ours), so the whole directory is checked and refused. The control run puts the same
    line in root's own cache and finds it believed: the forgery is exact, and a verdict file is
    trusted only because no one but us and root can write where it lies."""
    body = (
        "path = last_file()\n"
        "os.chown(path, ATTACKER, ATTACKER)\n"
        "assert attacker('cat >> ' + path) == 0\n"
        "sys.path.insert(0, PATHS[0])\n"
        "from pyoxidizer_ssl_bootstrap import _verdicts\n"
        "names = sorted(os.listdir(D))  # each a hash name or a file one names, here\n"
        "text = _verdicts._state(D, names, BUNDLE)\n"
        "tag = D.encode().hex()\n"
        "listed = '\\0'.join(names).encode().hex()\n"
        "line = _verdicts.VERDICTS_FORMAT + '\\n' + tag + ' ' + listed + ' ' + text + '\\n'\n"
        "def plant(cache):\n"
        "    os.makedirs(cache, mode=0o700, exist_ok=True)\n"
        "    with open(os.path.join(cache, 'HASHED'), 'w') as f:\n"
        "        f.write(line)\n"
        "    os.chmod(os.path.join(cache, 'HASHED'), 0o600)\n"
        f"if {where!r} == '/dev/shm':\n"
        "    theirs, env = '/dev/shm/pyoxidizer-ssl-0', {'XDG_CACHE_HOME': ''}\n"
        "    plant(theirs)\n"
        "else:\n"
        "    os.makedirs('/dev/shm/evil', mode=0o700)\n"
        "    theirs, env = '/dev/shm/evil/pyoxidizer-ssl', {'XDG_CACHE_HOME': '/dev/shm/evil'}\n"
        "    plant(theirs)\n"
        "    os.chown('/dev/shm/evil', ATTACKER, ATTACKER)\n"
        "for p in (theirs, os.path.join(theirs, 'HASHED')):\n"
        "    os.chown(p, ATTACKER, ATTACKER)\n"
        "time.sleep(3.2)\n"  # settled: only where the verdict lies refuses it
        "OUT['attacked'] = run(**env)\n"
        "plant(HOME + '/.cache/pyoxidizer-ssl')\n"
        "OUT['control'] = run()\n"
    )
    out = victim(body, render_bootstrap())
    attacked = out["attacked"]
    assert "cache.refused" in keys(attacked), attacked["steps"]
    assert KNOWN not in keys(attacked) and USED not in keys(attacked), attacked["steps"]
    assert any("another user could change it" in w for w in _refusals(attacked)), attacked
    assert attacked["tls"] == GOOD, attacked["steps"]
    assert KNOWN in keys(out["control"]), out["control"]["steps"]


@pytest.mark.parametrize("change", ["chmod 644", "chown 65534"])
def test_a_verdicts_file_not_ours_alone_is_ignored(change, victim, render_bootstrap):
    """HASHED open to others, or another user's: ignored (traced); the directory is checked
    whole, and the run writes a file of its own in its place."""
    command = (
        "os.chmod(HASHED, 0o644)"
        if change == "chmod 644"
        else "os.chown(HASHED, ATTACKER, ATTACKER)"
    )
    body = (
        "OUT['first'] = run('settled')\n"
        "HASHED = HOME + '/.cache/pyoxidizer-ssl/HASHED'\n" + command + "\n"
        "OUT['after'] = run('settled')\n"
        "info = os.stat(HASHED)\n"
        "OUT['rewritten'] = [info.st_uid, oct(info.st_mode & 0o777)]\n"
    )
    out = victim(body, render_bootstrap())
    assert KEPT in keys(out["first"])
    after = out["after"]
    assert "sources.system.hashed_dir.verdict_refused" in keys(after), after["steps"]
    assert KNOWN not in keys(after) and KEPT in keys(after) and USED in keys(after)
    assert after["tls"] == GOOD
    assert out["rewritten"] == [0, "0o600"]
