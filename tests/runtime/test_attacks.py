"""Another local user, a cleaner and an operator attack the binary's trust; none may widen it.

Each test runs a victim (root, the strongest case for the deletion attacks) in a private mount
namespace with the RHEL 7 layout (the test CA only in the distro store) and a fresh /dev/shm.
The attacker is uid 65534 (`setpriv`), with a CA of its own and a loopback server whose
certificate it issued. Root actions stand for systemd-tmpfiles, logind's RemoveIPC and the like.
Every handshake is real; "evil" must be rejected every time, "good" must keep working or fail
closed with a trace line. SECURITY.md maps each attack to its test here.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import pytest

from pyoxidizer_ssl import x509
from support.env import clean_env
from support.layouts import LAYOUTS, RHEL_BUNDLE, Layout, run_in_layout
from support.steps import keys, step, steps
from support.tls import VERIFY_SOURCE, port_of

ATTACKER = 65534
# RHEL 7 with its own empty /dev/shm: where the private directory goes (no TMPDIR, no
# XDG_RUNTIME_DIR), and where the attacker may create names (sticky, world-writable).
VICTIM_HOST = Layout(
    "rhel7-own-shm",
    (*LAYOUTS["rhel7"].steps, ("tmpfs", "/dev/shm", "1777")),
    native_works=False,
    origin=RHEL_BUNDLE,
)

_HEAD = """
import json, os, shutil, signal, socket, ssl, subprocess, sys, time
sys.path[:0] = {paths!r}
GOOD, EVIL = {ports!r}
EVIL_PEM, EVIL_HASH, ATTACKER = {evil_pem!r}, {evil_hash!r}, {attacker!r}
OUT = {{}}

{verify}
def handshake(ctx, port):
    outcome = verify(ctx, port)
    return outcome if outcome == "ok" else "rejected: " + outcome

def both(ctx):
    return [handshake(ctx, GOOD), handshake(ctx, EVIL)]

def attacker(script):
    # Another local user: its own uid and gid, no groups, no capabilities.
    argv = ["setpriv", "--reuid", str(ATTACKER), "--regid", str(ATTACKER), "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "sh", "-c", script]
    proc = subprocess.run(argv, input=EVIL_PEM, capture_output=True, text=True)
    return proc.returncode

def real(report):
    return os.path.realpath(report.capath.split(os.pathsep)[0])

def ours():
    return sorted(n for n in os.listdir("/dev/shm") if n.startswith("pyoxidizer-ssl-"))

"""


pytestmark = pytest.mark.usefixtures("namespaces")


@pytest.fixture
def attack(tmp_path, home, server, evil_server, evil_ca, bundle_pem, render_bootstrap):
    """Run victim ``body`` in the layout; return its OUT dict (and the exit status)."""

    def _run(
        body: str,
        env: dict[str, str] | None = None,
        prefix: list[str] | None = None,
        **keys: object,
    ):
        evil_pem = evil_ca.cert_pem.bytes()
        ((_, der),) = x509.pem_blocks(evil_pem)
        head = _HEAD.format(
            paths=[str(render_bootstrap(**keys))],
            ports=[port_of(server), port_of(evil_server)],
            verify=VERIFY_SOURCE,
            evil_pem=evil_pem.decode(),
            evil_hash=x509.subject_hash(der),
            attacker=ATTACKER,
        )
        code = head + body + '\nprint("RESULT " + json.dumps(OUT))\n'
        argv = [*(prefix or []), sys.executable, "-I", "-c", code]
        proc = run_in_layout(VICTIM_HOST, argv, env or clean_env(home), tmp_path, bundle_pem)
        assert proc.returncode == 0, proc.stderr[-3000:]
        result: dict = json.loads(proc.stdout.split("RESULT ", 1)[1])
        return result

    return _run


GOOD_EVIL = ["ok", "rejected: unable to get local issuer certificate"]


def test_removed_directory_recreated_by_another_user(attack):
    """The directory vanishes (cleaner) and another user makes its name again with their CA."""
    out = attack("""
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
used, unused = ssl.create_default_context(), ssl.create_default_context()
OUT["before"] = both(used)
path = real(report)
shutil.rmtree(path)  # systemd-tmpfiles --clean, logind RemoveIPC
OUT["attacker_made_it"] = attacker(
    "mkdir -m 755 %s && cat > %s/%s.0" % (path, path, EVIL_HASH)) == 0
OUT["unused_old_context"] = handshake(unused, EVIL)
OUT["new_context"] = both(ssl.create_default_context())  # notices, rebuilds under the same fd
OUT["old_contexts"] = both(used) + both(unused)
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""")
    assert out["before"] == GOOD_EVIL
    assert out["attacker_made_it"]  # the name was theirs to take...
    assert out["unused_old_context"].startswith("rejected")  # ...and it made no difference
    assert out["new_context"] == GOOD_EVIL
    assert out["old_contexts"] == GOOD_EVIL * 2  # healed behind the same descriptor
    assert "private_dir.changed" in keys(out)


def test_partial_clean_is_rebuilt_not_silently_shrunk(attack):
    out = attack("""
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
unused = ssl.create_default_context()
path = real(report)
for name in os.listdir(path):  # tmpfiles ages the files out, keeps the directory
    os.unlink(os.path.join(path, name))
OUT["new_context"] = both(ssl.create_default_context())
OUT["old_context"] = both(unused)
OUT["files"] = len(os.listdir(real(report)))
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""")
    assert out["new_context"] == out["old_context"] == GOOD_EVIL, "\n".join(out["trace"])
    assert out["files"] > 0


def test_daemonised_child_keeps_its_trust_after_the_parent_exits(attack):
    """`if os.fork(): sys.exit(0)`: the parent's exit must not free the name for the attacker."""
    out = attack("""
result = "/dev/shm/child-result.json"
reader, writer = os.pipe()
if os.fork() == 0:  # the app: installs, makes a context, daemonises
    import pyoxidizer_ssl_bootstrap
    report = pyoxidizer_ssl_bootstrap.install()
    ctx = ssl.create_default_context()
    path = real(report)
    if os.fork():
        sys.exit(0)  # the parent: a normal exit, its atexit cleanup runs
    os.close(writer)
    os.read(reader, 1)  # EOF: the parent has exited, after its exit handlers ran
    child = {"dir_kept": os.path.isdir(path)}
    child["attacker_made_it"] = attacker("mkdir %s/x || mkdir -m 755 %s" % (path, path)) == 0
    child["old"] = both(ctx)
    child["new"] = both(ssl.create_default_context())
    with open(result, "w") as f:
        json.dump(child, f)
    os._exit(0)
os.close(writer)
os.wait()  # the app's first process
deadline = time.time() + 30
while not os.path.exists(result) and time.time() < deadline:
    time.sleep(0.05)
time.sleep(0.1)
with open(result) as f:
    OUT.update(json.load(f))
""")
    assert out["dir_kept"] and not out["attacker_made_it"]
    assert out["old"] == out["new"] == GOOD_EVIL


@pytest.mark.parametrize(
    ("mode", "owner", "reason"),
    [
        (0o777, 0, "writable by other users without the sticky bit"),
        (0o755, ATTACKER, f"owned by uid {ATTACKER}, neither us nor root"),
    ],
)
def test_temp_parents_others_control_are_refused(attack, home, mode, owner, reason):
    out = attack(
        f"""
os.mkdir("/dev/shm/tmp", {mode:#o})
os.chmod("/dev/shm/tmp", {mode:#o})
os.chown("/dev/shm/tmp", {owner}, {owner})
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
OUT["tls"] = both(ssl.create_default_context())
OUT["dir"] = real(report)
OUT["inside"] = os.listdir("/dev/shm/tmp")
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""",
        env=clean_env(home, TMPDIR="/dev/shm/tmp"),
    )
    assert out["tls"] == GOOD_EVIL
    assert out["inside"] == [] and out["dir"].startswith("/dev/shm/pyoxidizer-ssl-")
    assert f"'/dev/shm/tmp' passed over: {reason}" in step(out, "private_dir.parent_refused")


def test_cleanup_never_follows_a_swapped_in_link(attack):
    """The directory is moved away and a link to other files put in its place before exit."""
    out = attack("""
os.mkdir("/dev/shm/precious")
for n in ("a", "b"):
    open("/dev/shm/precious/" + n, "w").close()
if os.fork() == 0:
    import pyoxidizer_ssl_bootstrap
    report = pyoxidizer_ssl_bootstrap.install()
    ssl.create_default_context()
    path = real(report)
    os.rename(path, "/dev/shm/moved")
    os.symlink("/dev/shm/precious", path)
    sys.exit(0)  # exit cleanup
os.wait()
OUT["precious"] = sorted(os.listdir("/dev/shm/precious"))
OUT["moved"] = os.listdir("/dev/shm/moved")
""")
    assert out["precious"] == ["a", "b"]
    assert out["moved"] == []  # our own files were removed, through the descriptor


def test_exported_directory_cannot_be_claimed_after_exit(attack, home, tmp_path, corp_ca):
    pem = tmp_path / "corp.pem"
    corp_ca.cert_pem.write_to_path(str(pem))
    run = "/run/pyoxidizer-ssl-test-runtime"
    body = f"""
subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0700", "tmpfs", {run!r}], check=True)
import pyoxidizer_ssl_bootstrap
from pyoxidizer_ssl_bootstrap import _cleanup
pyoxidizer_ssl_bootstrap.install()
exported = os.environ.get("SSL_CERT_DIR")
OUT["exported"] = exported
_cleanup.close_all()  # what the binary's exit does
OUT["gone"] = not os.path.exists(exported)
OUT["attacker_made_it"] = attacker("mkdir -m 755 %s" % exported) == 0
"""
    os.makedirs(run, exist_ok=True)
    out = attack(
        body, env=clean_env(home, XDG_RUNTIME_DIR=run), export_env=True, extra_ca=[str(pem)]
    )
    assert out["exported"].startswith(run + "/pyoxidizer-ssl-")
    assert out["gone"] and not out["attacker_made_it"]


def test_env_memory_error_never_widens(attack, home):
    """Under `ulimit -v` reading SSL_CERT_FILE fails; trust must stay exactly env (unusable)."""
    out = attack(
        """
with open("/dev/shm/big.pem", "wb") as f:
    f.write(EVIL_PEM.encode())
    f.write(b"#" * (60 << 20))
import resource
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
with open("/proc/self/status") as f:
    size = [int(l.split()[1]) for l in f if l.startswith("VmSize:")][0] * 1024
resource.setrlimit(resource.RLIMIT_AS, (size + (24 << 20), resource.RLIM_INFINITY))
ctx = ssl.create_default_context()
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
OUT["tls"] = both(ctx)
OUT["source"], OUT["usable"] = report.source, report.usable
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""",
        env=clean_env(home, SSL_CERT_FILE="/dev/shm/big.pem"),
    )
    assert out["tls"][1].startswith("rejected") and out["tls"][0].startswith("rejected")
    assert (out["source"], out["usable"]) == ("env", False)
    assert "MemoryError" in step(out, "sources.env.failed")
    assert not [key for key in keys(out) if key.startswith(("sources.system", "sources.cert"))]


def test_setuid_process_ignores_the_callers_ssl_cert_file(attack, home, evil_ca, tmp_path):
    """Real uid the caller's, effective uid root: SSL_CERT_FILE is the caller's, not ours."""
    evil_ca.cert_pem.write_to_path(str(tmp_path / "evil.pem"))
    out = attack(
        """
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
OUT["ids"] = [os.getuid(), os.geteuid()]
OUT["tls"] = both(ssl.create_default_context())
OUT["source"] = report.source
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""",
        env=clean_env(home, SSL_CERT_FILE=str(tmp_path / "evil.pem")),
        prefix=["setpriv", "--ruid", str(ATTACKER)],
    )
    assert out["ids"] == [ATTACKER, 0]
    assert out["tls"] == GOOD_EVIL and out["source"] == "system"
    assert "sources.env.setuid_ignored" in keys(out)


def test_forked_child_removes_what_it_made_and_sigterm_cleans_up(attack):
    out = attack("""
import pyoxidizer_ssl_bootstrap
pyoxidizer_ssl_bootstrap.install()
pid = os.fork()
if pid == 0:  # decides and makes its own directory, then exits normally
    ssl.create_default_context()
    sys.exit(0)
os.waitpid(pid, 0)
OUT["after_child"] = ours()
pid = os.fork()
if pid == 0:  # no handler of the app's own: SIGTERM ends it like an exit, still by the signal
    ssl.create_default_context()
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)
    os._exit(3)
_, status = os.waitpid(pid, 0)
OUT["sigterm_status"] = [os.WIFSIGNALED(status), os.WTERMSIG(status)]
OUT["after_sigterm"] = ours()
""")
    assert out["after_child"] == [] and out["after_sigterm"] == []
    assert out["sigterm_status"] == [True, signal.SIGTERM]


def test_leftovers_of_killed_runs_are_removed_never_reused(attack):
    out = attack("""
pid = os.fork()
if pid == 0:
    import pyoxidizer_ssl_bootstrap
    pyoxidizer_ssl_bootstrap.install()
    ssl.create_default_context()
    os.kill(os.getpid(), signal.SIGKILL)
os.waitpid(pid, 0)
killed = ours()
os.utime("/dev/shm/" + killed[0], (time.time() - 3600, time.time() - 3600))
young = "/dev/shm/pyoxidizer-ssl-0123456789abcdef"
os.mkdir(young, 0o700)  # unlocked but new: maybe another run setting up; kept
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
OUT["tls"] = both(ssl.create_default_context())
OUT["killed"], OUT["now"], OUT["mine"] = killed, ours(), os.path.basename(real(report))
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""")
    assert len(out["killed"]) == 1
    assert out["killed"][0] not in out["now"]
    assert sorted(out["now"]) == sorted([out["mine"], "pyoxidizer-ssl-0123456789abcdef"])
    assert out["tls"] == GOOD_EVIL
    assert [repr(out["killed"][0]) in words for words in steps(out, "cleanup.stale_removed")] == [
        True
    ]


def test_closed_descriptor_is_never_trusted_again(attack):
    """The app closes every descriptor it did not open (a daemon does) and reuses the number."""
    out = attack("""
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
ssl.create_default_context()
fd = int(report.capath.split(os.pathsep)[0].rsplit("/", 1)[1])
os.mkdir("/dev/shm/theirs", 0o755)
with open("/dev/shm/theirs/%s.0" % EVIL_HASH, "w") as f:
    f.write(EVIL_PEM)
theirs = os.open("/dev/shm/theirs", os.O_RDONLY)
os.dup2(theirs, fd)  # the number now names another directory
OUT["new"] = both(ssl.create_default_context())
OUT["capath"] = report.capath
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""")
    assert out["new"] == GOOD_EVIL
    assert "private_dir.lost" in keys(out)
