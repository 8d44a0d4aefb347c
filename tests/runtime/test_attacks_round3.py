"""Round 3: another local user and an env-setting operator attack what the bootstrap reads.

Same set-up as test_attacks.py (whose helpers this reuses): a victim in a private mount
namespace with the RHEL 7 layout and a fresh sticky /dev/shm, the attacker uid 65534 with a CA
of its own and a loopback server it issued a certificate for. Every handshake is real; "evil"
must be rejected every time. Each test here was written against the design before round 3
(commit d4fff6c) and failed there: the attacker's CA was trusted. SECURITY.md ("Round 3") maps
each finding to its test.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest
from test_attacks import _HEAD, ATTACKER, GOOD_EVIL, VICTIM_HOST

from pyoxidizer_ssl import x509
from support.env import CERTIFI_PARENT, clean_env, need
from support.layouts import run_in_layout
from support.steps import keys
from support.tls import VERIFY_SOURCE, port_of

pytestmark = pytest.mark.usefixtures("namespaces")

# The RHEL 7 store is moved out of the way: no candidate bundle file is left, OpenSSL's default
# directory (/etc/ssl/certs) is gone, and the distro candidate directories decide. The good CA
# is hashed into /etc/pki/tls/certs (root's, 0755: the safe candidate, last in the list).
_NO_FILES = """
for path in ("/etc/pki/tls/certs/ca-bundle.crt", "/etc/pki/tls/cert.pem", "/etc/ssl/certs"):
    os.unlink(path)
os.rename("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/moved-bundle.pem")
GOOD_PEM = open("/etc/moved-bundle.pem").read().split("-----END CERTIFICATE-----")[-2]
GOOD_PEM = GOOD_PEM[GOOD_PEM.index("-----BEGIN"):] + "-----END CERTIFICATE-----\\n"

def hashed(directory, pem, owner=0, mode=0o644):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "cert.pem")
    with open(path, "w") as f:
        f.write(pem)
    subprocess.run(["openssl", "rehash", directory], check=True)
    (name,) = [n for n in os.listdir(directory) if n.endswith(".0")]
    os.unlink(os.path.join(directory, name))
    os.rename(path, os.path.join(directory, name))  # a plain file, as p11-kit writes them
    os.chown(os.path.join(directory, name), owner, owner)
    os.chmod(os.path.join(directory, name), mode)
    return os.path.join(directory, name)

hashed("/etc/pki/tls/certs", GOOD_PEM)
"""

# What a local user with a capability-enabled copy of the interpreter runs (AT_SECURE).
_CAPPED = "/dev/shm/capped-python3"


@pytest.fixture
def attack(tmp_path, home, server, evil_server, evil_ca, bundle_pem, render_bootstrap):
    """Run victim ``body`` (as root) in the layout; return its OUT dict.

    ``INNER`` in the body is the head of a second script, for a process the body starts itself
    (readable by any uid once the body copied the bootstrap to /dev/shm/boot).
    """

    def _run(body: str, env: dict[str, str] | None = None, **keys: object) -> dict:
        evil_pem = evil_ca.cert_pem.bytes()
        ((_, der),) = x509.pem_blocks(evil_pem)
        fields = dict(
            ports=[port_of(server), port_of(evil_server)],
            verify=VERIFY_SOURCE,
            evil_pem=evil_pem.decode(),
            evil_hash=x509.subject_hash(der),
            attacker=ATTACKER,
        )
        boot = str(render_bootstrap(**keys))
        inner = _HEAD.format(paths=["/dev/shm/boot"], **fields)
        head = _HEAD.format(paths=[boot], **fields) + f"INNER = {inner!r}\n"
        code = head + body + '\nprint("RESULT " + json.dumps(OUT))\n'
        argv = [sys.executable, "-I", "-c", code]
        proc = run_in_layout(VICTIM_HOST, argv, env or clean_env(home), tmp_path, bundle_pem)
        assert proc.returncode == 0, proc.stderr[-3000:]
        result: dict = json.loads(proc.stdout.split("RESULT ", 1)[1])
        return result

    return _run


def test_a_sticky_store_directory_is_not_a_safe_store(attack):
    """Finding 1. A candidate hashed directory root owns but made sticky and world-writable
    (like /tmp): the sticky bit stops others replacing root's entries, not adding their own.
    OpenSSL reads a capath lazily, at each handshake, so an entry added after the decision is
    trusted too. Sticky may excuse only a directory above a store, never the store itself."""
    out = attack(
        _NO_FILES
        + """
shared = "/var/lib/ca-certificates/openssl"  # the second candidate directory
hashed(shared, GOOD_PEM)
os.chmod(shared, 0o1777)
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
ctx = ssl.create_default_context()
OUT["before"] = both(ctx)
OUT["planted"] = attacker("cat > %s/%s.0" % (shared, EVIL_HASH)) == 0  # after the decision
OUT["after"] = both(ctx) + both(ssl.create_default_context())
OUT["origin"] = report.origin
OUT["trace"] = report.trace
OUT["steps"] = report.steps
"""
    )
    assert out["planted"]
    assert out["before"] == GOOD_EVIL and out["after"] == GOOD_EVIL * 2, "\n".join(out["trace"])
    assert out["origin"] == "/etc/pki/tls/certs"
    assert "sources.system.changeable" in keys(out)


@pytest.mark.parametrize("how", ["owned", "through"])
def test_a_hashed_entry_another_user_can_change_is_not_trusted(attack, how):
    """Finding 3. A candidate directory root owns, 0755, passes; one XXXXXXXX.N entry in it is
    another user's file (``owned``: chowned by mistake), or a root link to a root file in a
    directory that user owns (``through``). The user appends its CA to that entry: OpenSSL
    loads every certificate of a hashed file it opens, so after one good handshake the
    attacker's CA is in the context's store."""
    setup, replace = {
        # The user owns the file: it appends its CA.
        "owned": ("entry = hashed(shared, GOOD_PEM, owner=ATTACKER)", 'cat >> "$E"'),
        # The user owns the directory the link leads into: it renames a new file over root's.
        "through": (
            """
os.makedirs("/dev/shm/att", mode=0o755)
os.chown("/dev/shm/att", ATTACKER, ATTACKER)
entry = hashed("/dev/shm/att", GOOD_PEM)  # root's file, in a directory the user owns
os.makedirs(shared)
os.symlink(entry, os.path.join(shared, os.path.basename(entry)))
""",
            'cat "$E" - > /dev/shm/att/.new && mv -f /dev/shm/att/.new "$E"',
        ),
    }[how]
    out = attack(
        _NO_FILES
        + 'shared = "/var/lib/ca-certificates/openssl"\n'
        + setup
        + f"""
OUT["planted"] = attacker("E=%s; " % entry + {replace!r}) == 0
with open(entry) as f:
    OUT["entry_has_evil"] = EVIL_PEM.strip() in f.read()
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
OUT["tls"] = both(ssl.create_default_context())
OUT["origin"] = report.origin
OUT["trace"] = report.trace
OUT["steps"] = report.steps
"""
    )
    assert out["entry_has_evil"], out
    assert out["tls"] == GOOD_EVIL, "\n".join(out["trace"])
    assert out["origin"] == "/etc/pki/tls/certs"
    assert "sources.system.entry_changeable" in keys(out)


@pytest.mark.parametrize("how", ["owned", "writable"])
def test_certifi_cacert_pem_another_user_can_change_is_not_used(attack, how):
    """Finding 4. certifi on disk (a binary's ``filesystem-relative:lib``) in directories only
    root can change, but its cacert.pem another user's (``owned``) or writable by others
    (``writable``): the user writes its CA into it. The directory was checked, the file was
    not; and when reading it failed, two more readers would have read the same file."""
    out = attack(
        f"""
shutil.copytree({CERTIFI_PARENT!r} + "/certifi", "/dev/shm/app/lib/certifi")
pem = "/dev/shm/app/lib/certifi/cacert.pem"
os.chown(pem, *((ATTACKER, ATTACKER) if {how!r} == "owned" else (0, 0)))
os.chmod(pem, 0o644 if {how!r} == "owned" else 0o666)
OUT["planted"] = attacker("cat >> " + pem) == 0
sys.path.insert(1, "/dev/shm/app/lib")  # /dev/shm above it: sticky, which is fine there
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
OUT["tls"] = both(ssl.create_default_context())
OUT["source"] = report.source
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""",
        trust=["certifi", "system"],
    )
    assert out["planted"]
    assert out["tls"] == GOOD_EVIL, "\n".join(out["trace"])
    assert out["source"] == "system"
    assert "sources.certifi.changeable" in keys(out)


def test_certifi_on_disk_in_safe_directories_is_still_used(attack, home):
    """The check above refuses only what others could change: root's certifi under sticky
    /dev/shm (a directory above it) is used, and the good server (not in certifi) is rejected."""
    out = attack(
        f"""
shutil.copytree({CERTIFI_PARENT!r} + "/certifi", "/dev/shm/app/lib/certifi")
sys.path.insert(1, "/dev/shm/app/lib")
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
OUT["tls"] = both(ssl.create_default_context())
OUT["source"] = report.source
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""",
        trust=["certifi", "system"],
    )
    assert out["source"] == "certifi", "\n".join(out["trace"])
    assert all(r.startswith("rejected") for r in out["tls"])


_CAPPED_BODY = """
import pickle
class Evil:
    def __reduce__(self):
        return (os.system, ("touch /dev/shm/caller/pwned",))
import pyoxidizer_ssl_bootstrap
from pyoxidizer_ssl_bootstrap import _multiprocessing
report = pyoxidizer_ssl_bootstrap.install()
OUT["ids"] = [os.getuid(), os.geteuid()]
with open("/proc/self/status") as f:
    OUT["cap_eff"] = [l.split()[1] for l in f if l.startswith("CapEff:")][0]
ctx = ssl.create_default_context()
# The caller is this very uid, without the capability: it fills whatever it owns.
fill = '''
for d in "$XDG_RUNTIME_DIR"/pyoxidizer-ssl-* /dev/shm/pyoxidizer-ssl-*; do
  [ -d "$d" ] && [ -O "$d" ] || continue
  touch -r "$d" /dev/shm/caller/.ref && cat > "$d/%s.0" && touch -r /dev/shm/caller/.ref "$d"
done'''
subprocess.run(["sh", "-c", fill % EVIL_HASH], input=EVIL_PEM, text=True, check=True)
OUT["old"] = both(ctx)
OUT["new"] = both(ssl.create_default_context())
OUT["in_runtime_dir"] = os.listdir(os.environ["XDG_RUNTIME_DIR"])
# multiprocessing's spawn worker form, its pipe written by the caller.
reader, writer = os.pipe()
os.write(writer, pickle.dumps(Evil()))
os.close(writer)
try:
    _multiprocessing.dispatch(
        ["exe", "--multiprocessing-fork", "pipe_handle=%d" % reader],
        lambda key, words: OUT.setdefault("dispatch", []).append(key), lambda: None)
    OUT["dispatched"] = False
except SystemExit:
    OUT["dispatched"] = True
OUT["pwned"] = os.path.exists("/dev/shm/caller/pwned")
OUT["trace"] = report.trace
OUT["steps"] = report.steps
"""


def test_a_capability_exec_run_by_a_user_trusts_nothing_that_user_owns(attack, home):
    """Finding 2. A real AT_SECURE process that is not root's: a copy of the system python3
    with ``cap_net_bind_service+ep`` (as a binary given a capability would be), run by uid
    65534. Its ids are all the caller's, so the old check ("real and effective ids are the
    same") made the private directory in the caller's $XDG_RUNTIME_DIR (glibc drops $TMPDIR
    there) or /dev/shm, owned by the caller, who filled it with its CA behind the process's
    back (the caller cannot ptrace it: that is what AT_SECURE protects). Now it makes none
    and owns nothing but what root owns; the caller's SSL_CERT_FILE and a multiprocessing
    helper's argv are ignored, as before, now tested in a real privileged exec."""
    real = "/usr/bin/python3"  # the distro's: its stdlib is readable by any uid
    need(
        os.path.exists(real) and bool(shutil.which("setcap")),
        "needs the system /usr/bin/python3 and setcap (libcap2-bin)",
    )
    out = attack(
        f"""
readable_bootstrap()
shutil.copyfile(os.path.realpath({real!r}), {_CAPPED!r})
os.chmod({_CAPPED!r}, 0o755)
subprocess.run(["setcap", "cap_net_bind_service+ep", {_CAPPED!r}], check=True)
os.mkdir("/dev/shm/caller", 0o700)
os.chown("/dev/shm/caller", ATTACKER, ATTACKER)
with open("/dev/shm/evil.pem", "w") as f:
    f.write(EVIL_PEM)
env = {{"PATH": os.environ["PATH"], "HOME": "/dev/shm/caller", "XDG_RUNTIME_DIR": "/dev/shm/caller",
       "SSL_CERT_FILE": "/dev/shm/evil.pem"}}
code = INNER + _CAPPED_BODY + '\\nprint("RESULT " + json.dumps(OUT))\\n'
argv = ["setpriv", "--reuid", str(ATTACKER), "--regid", str(ATTACKER), "--clear-groups",
        {_CAPPED!r}, "-I", "-c", code]
proc = subprocess.run(argv, env=env, capture_output=True, text=True)
assert proc.returncode == 0, proc.stderr[-3000:]
OUT.update(json.loads(proc.stdout.split("RESULT ", 1)[1]))
""".replace("_CAPPED_BODY", repr(_CAPPED_BODY))
    )
    trace = "\n".join(out["trace"])
    assert out["ids"] == [ATTACKER, ATTACKER] and int(out["cap_eff"], 16) != 0
    assert out["old"] == out["new"] == GOOD_EVIL, trace
    assert out["in_runtime_dir"] == []
    assert not out["pwned"] and not out["dispatched"]
    assert out["dispatch"] == ["start.multiprocessing.privileged"]
    assert {"private_dir.ids_unsettled", "sources.env.setuid_ignored"} <= set(keys(out)), trace


# -- Found attacking round 3's own fixes ------------------------------------------------------


def test_a_link_met_half_way_is_never_followed_again(attack):
    """New finding. A candidate bundle reached through a link another user owns that is on
    neither the path as written nor where it leads (root's link into a shared sticky drop
    directory, where the user's own link points on to root's bundle): both paths checked out,
    and with no private directory (here: a low ``ulimit -n``; also any privileged exec now)
    every context re-opened the name, after the user had re-pointed its link at its own CA.
    Now the real path that was checked is what is read and given to contexts."""
    out = attack(
        _NO_FILES
        + """
import resource
os.mkdir("/dev/shm/drop")
os.chmod("/dev/shm/drop", 0o1777)
OUT["linked"] = attacker("ln -s /etc/moved-bundle.pem /dev/shm/drop/bundle.pem") == 0
os.symlink("/dev/shm/drop/bundle.pem", "/etc/pki/tls/certs/ca-bundle.crt")
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))  # no descriptor >= 512: no private dir
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
OUT["before"] = both(ssl.create_default_context())
OUT["repointed"] = attacker(
    "cat > /dev/shm/drop/evil.pem && ln -sfn /dev/shm/drop/evil.pem /dev/shm/drop/bundle.pem") == 0
OUT["after"] = both(ssl.create_default_context())
OUT["trace"] = report.trace
OUT["steps"] = report.steps
"""
    )
    assert out["linked"] and out["repointed"]
    assert "private_dir.none" in keys(out), "\n".join(out["trace"])
    assert out["before"] == out["after"] == GOOD_EVIL, "\n".join(out["trace"])
