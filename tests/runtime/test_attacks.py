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
from support.env import clean_env, need
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

def readable_bootstrap():
    # The test renders the bootstrap under root's 0700 tmp; a binary carries it in memory, where
    # any uid the process takes on can still import it.
    shutil.copytree(sys.path[0], "/dev/shm/boot")
    subprocess.run(["chmod", "-R", "a+rX", "/dev/shm/boot"], check=True)
    sys.path[0] = "/dev/shm/boot"
    import atexit, ctypes, encodings.idna, fcntl, hashlib  # the stdlib too (root's 0700 pyenv)

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
    # TMPDIR, not XDG_RUNTIME_DIR: there the between-runs cache would hold the split instead
    # (an entry outlives the process by design; test_attacks_cache.py exports it).
    out = attack(body, env=clean_env(home, TMPDIR=run), export_env=True, extra_ca=[str(pem)])
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


def test_forked_child_removes_what_it_made_and_sigterm_dies_as_stock(attack):
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
if pid == 0:  # no handler of the app's own: SIGTERM ends it at once, as without us
    ssl.create_default_context()
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)
    os._exit(3)
_, status = os.waitpid(pid, 0)
OUT["sigterm_status"] = [os.WIFSIGNALED(status), os.WTERMSIG(status)]
left = ours()
OUT["left_by_sigterm"] = len(left)
os.utime("/dev/shm/" + left[0], (time.time() - 3600, time.time() - 3600))
ssl.create_default_context()  # a later run (here the parent's first directory) sweeps it
OUT["after_next_run"] = [n for n in ours() if n in left]
""")
    assert out["after_child"] == []
    assert out["sigterm_status"] == [True, signal.SIGTERM]
    assert out["left_by_sigterm"] == 1 and out["after_next_run"] == []


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


# -- Second round (issue 17): privilege changes, failed rebuilds, sandboxes, fork, signals ----

# The attacker fills every private directory it owns with its CA and puts the mtime back.
_FILL_OWNED = """
n=0
for d in /dev/shm/pyoxidizer-ssl-*; do
  [ -d "$d" ] && [ -O "$d" ] || continue
  touch -r "$d" /dev/shm/.ref && cat > "$d/%s.0" && touch -r /dev/shm/.ref "$d" && n=$((n+1))
done
exit $n
"""


def test_a_first_context_under_a_temporary_seteuid_leaves_nothing_that_user_owns(attack):
    """A root daemon makes its first context while seteuid(65534), a common way to touch files
    as a user; that user must not own, and so fill, anything contexts look into."""
    out = attack(
        """
readable_bootstrap()
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
os.setegid(ATTACKER)
os.seteuid(ATTACKER)
first = ssl.create_default_context()
os.seteuid(0)
os.setegid(0)
OUT["filled"] = attacker(_FILL_OWNED % EVIL_HASH)
OUT["old"] = both(first)
OUT["new"] = both(ssl.create_default_context())
OUT["owners"] = [os.stat("/dev/shm/" + n).st_uid for n in ours()]
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""".replace("_FILL_OWNED", repr(_FILL_OWNED))
    )
    assert out["filled"] == 0 and set(out["owners"]) <= {0}
    assert out["old"] == out["new"] == GOOD_EVIL, "\n".join(out["trace"])
    assert "private_dir.ids_unsettled" in keys(out)


def test_a_failed_rebuild_never_frees_the_descriptor_contexts_name(attack):
    """A cleaner removes the directory while the app runs at its descriptor limit: the rebuild
    fails, and the number old contexts look into must never come to name another directory
    (here /dev/shm itself, where the attacker planted its CA)."""
    out = attack("""
import resource
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
old = ssl.create_default_context()
unused = ssl.create_default_context()
OUT["before"] = both(old)
fd = int(report.capath.split(os.pathsep)[0].rsplit("/", 1)[1])
OUT["planted"] = attacker("cat > /dev/shm/%s.0" % EVIL_HASH) == 0
shutil.rmtree(real(report))  # a cleaner
resource.setrlimit(resource.RLIMIT_NOFILE, (fd + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
fillers = []
while True:  # the app at its limit: every number but ours taken
    try:
        fillers.append(os.open("/dev/null", os.O_RDONLY))
    except OSError:
        break
during = ssl.create_default_context()  # notices the removal; the rebuild fails (EMFILE)
try:
    theirs = os.open("/dev/shm", os.O_RDONLY)  # the app opens a directory: lowest free number
except OSError:
    theirs = None
OUT["reused"] = theirs == fd
for f in fillers[-20:]:  # room for the handshakes' sockets
    os.close(f)
OUT["old"] = both(old) + both(unused)
OUT["during"] = both(during)
OUT["later"] = both(ssl.create_default_context())
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""")
    assert out["before"] == GOOD_EVIL and out["planted"]
    assert not out["reused"]
    evil = [*out["old"][1::2], out["during"][1], out["later"][1]]
    assert all(r.startswith("rejected") for r in evil), out
    assert out["later"] == GOOD_EVIL, "\n".join(out["trace"])
    assert "private_dir.rebuild_failed" in keys(out), "\n".join(out["trace"])


def test_ssl_cert_file_is_honoured_after_a_temporary_seteuid(attack, home, corp_ca):
    """Privileged means AT_SECURE at exec, as for OpenSSL: not ids changed for a moment."""
    pem = "/dev/shm/operator.pem"
    out = attack(
        f"""
with open({pem!r}, "w") as f:
    f.write({corp_ca.cert_pem.bytes().decode()!r})
os.chmod({pem!r}, 0o644)
readable_bootstrap()
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
os.setegid(ATTACKER)
os.seteuid(ATTACKER)
ctx = ssl.create_default_context()
os.seteuid(0)
os.setegid(0)
OUT["tls"] = both(ctx) + both(ssl.create_default_context())
OUT["source"] = report.source
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""",
        env=clean_env(home, SSL_CERT_FILE=pem),
    )
    # Exactly the operator's file: neither the system store's CA (good) nor the attacker's.
    assert out["source"] == "env", "\n".join(out["trace"])
    assert all(r.startswith("rejected") for r in out["tls"]), out["tls"]
    assert "sources.env.setuid_ignored" not in keys(out)


def test_a_privilege_drop_after_the_first_context_is_healed(attack):
    """A server makes its first context as root (binding :443), then setuid(1000)."""
    out = attack("""
readable_bootstrap()
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
old = ssl.create_default_context()
unused = ssl.create_default_context()
OUT["before"] = both(old)
OUT["planted"] = attacker("cat > /dev/shm/%s.0" % EVIL_HASH) == 0
os.setgroups([])
os.setgid(1000)
os.setuid(1000)
OUT["new"] = both(ssl.create_default_context())
OUT["old"] = both(old) + both(unused)
OUT["owner"] = os.stat(real(report)).st_uid
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""")
    assert out["before"] == GOOD_EVIL
    assert out["new"] == GOOD_EVIL, "\n".join(out["trace"])
    assert out["old"] == GOOD_EVIL * 2, "\n".join(out["trace"])
    assert out["owner"] == 1000
    assert "private_dir.new_user" in keys(out), out["trace"]
    assert "(uid 1000)" in step(out, "private_dir.rebuilt")


_LANDLOCK = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
class Ruleset(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]
class Beneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]
READ = 4 | 8  # LANDLOCK_ACCESS_FS_READ_FILE | READ_DIR
ruleset = Ruleset(READ)
rs = libc.syscall(444, ctypes.byref(ruleset), ctypes.sizeof(ruleset), 0)
assert rs >= 0, os.strerror(ctypes.get_errno())
for name in os.listdir("/"):  # everything may be read but /dev (so not /dev/shm)
    if name != "dev" and os.path.isdir("/" + name):
        dfd = os.open("/" + name, os.O_PATH)
        assert libc.syscall(445, rs, 1, ctypes.byref(Beneath(READ, dfd)), 0) == 0
        os.close(dfd)
assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
assert libc.syscall(446, rs, 0) == 0
"""


def _landlock_available() -> bool:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.syscall(444, None, 0, 1) >= 1)  # LANDLOCK_CREATE_RULESET_VERSION


def test_landlock_after_the_first_context(attack):
    """A sandbox taken after the first context hides /dev/shm: new contexts keep verifying,
    old ones fail closed, and the trace says so."""
    need(_landlock_available(), "needs Landlock (Linux 5.13+ with the LSM enabled)")
    out = attack(
        """
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
unused = ssl.create_default_context()
OUT["planted"] = attacker("cat > /dev/shm/%s.0" % EVIL_HASH) == 0
"""
        + _LANDLOCK
        + """
OUT["new"] = both(ssl.create_default_context())
OUT["old"] = both(unused)
OUT["trace"] = report.trace
OUT["steps"] = report.steps
"""
    )
    assert out["new"] == GOOD_EVIL, "\n".join(out["trace"])
    assert out["old"][1].startswith("rejected")
    assert "private_dir.unreadable" in keys(out), "\n".join(out["trace"])


def test_chroot_without_proc_after_the_first_context(attack):
    """chroot into a jail that holds the store but no /proc: new contexts verify as stock's do,
    old ones fail closed with a trace line."""
    out = attack("""
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
unused = ssl.create_default_context()
store = report.origin
jail = "/dev/shm/jail"
os.makedirs(jail + os.path.dirname(store))
shutil.copyfile(store, jail + store)
import encodings.idna  # what a handshake to 127.0.0.1 loads; outside the jail
os.chroot(jail)
os.chdir("/")
OUT["new"] = both(ssl.create_default_context())
OUT["old"] = both(unused)
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""")
    assert out["new"] == GOOD_EVIL, "\n".join(out["trace"])
    assert out["old"][1].startswith("rejected")
    assert "private_dir.unreadable" in keys(out), "\n".join(out["trace"])


def test_fork_while_another_thread_makes_the_first_context(attack):
    """Children forked while a thread holds the trust lock must not hang on it."""
    out = attack("""
import threading
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
worker = threading.Thread(target=ssl.create_default_context)
worker.start()
while not any(s.startswith("system:") for s in report.trace):
    pass  # the worker is deciding, under the lock
children = []
for _ in range(4):
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        signal.alarm(20)  # a hang ends here, by SIGALRM
        result = both(ssl.create_default_context())
        os.write(writer, json.dumps(result).encode())
        os._exit(0)
    os.close(writer)
    children.append((pid, reader))
worker.join()
OUT["children"] = []
for pid, reader in children:
    _, status = os.waitpid(pid, 0)
    data = os.read(reader, 4096)
    OUT["children"].append(json.loads(data) if data else "hung (status %d)" % status)
OUT["parent"] = both(ssl.create_default_context())
""")
    assert out["children"] == [GOOD_EVIL] * 4
    assert out["parent"] == GOOD_EVIL


def test_pid_1_ignores_sigterm_as_without_the_bootstrap(attack):
    """As a container's PID 1 without an init, SIGTERM with no handler of the app's is ignored
    by the kernel; the bootstrap must not change that, nor tear its trust down."""
    out = attack(
        """
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
OUT["pid"] = os.getpid()
unused = ssl.create_default_context()
path = real(report)
os.kill(1, signal.SIGTERM)  # docker stop
time.sleep(0.5)
OUT["handler_default"] = signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
OUT["kept"] = os.path.isdir(path)
OUT["old"] = both(unused)
OUT["new"] = both(ssl.create_default_context())
""",
        prefix=["unshare", "--pid", "--fork"],
    )
    assert out["pid"] == 1
    assert out["handler_default"] and out["kept"]
    assert out["old"] == out["new"] == GOOD_EVIL


def test_sigterm_during_a_long_c_call_kills_at_once_as_stock(attack):
    """Stock dies of SIGTERM at once even inside a long C call; a Python-level handler would
    wait for the call to return (here: minutes)."""
    out = attack("""
reader, writer = os.pipe()
pid = os.fork()
if pid == 0:
    import hashlib
    import pyoxidizer_ssl_bootstrap
    pyoxidizer_ssl_bootstrap.install()
    ssl.create_default_context()
    os.write(writer, b"x")
    hashlib.pbkdf2_hmac("sha256", b"x", b"y", 10**9)  # minutes in C
    os._exit(3)
os.read(reader, 1)
os.kill(pid, signal.SIGTERM)
deadline = time.time() + 15
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        OUT["died"] = [os.WIFSIGNALED(status), os.WTERMSIG(status)]
        break
    if time.time() > deadline:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        OUT["died"] = "still alive 15 s after SIGTERM"
        break
    time.sleep(0.05)
""")
    assert out["died"] == [True, signal.SIGTERM]


def test_patched_methods_keep_stock_signatures(attack):
    out = attack("""
import inspect
names = ("load_verify_locations", "set_default_verify_paths")
stock = [str(inspect.signature(getattr(ssl.SSLContext, n))) for n in names]
import pyoxidizer_ssl_bootstrap
pyoxidizer_ssl_bootstrap.install()
assert ssl.SSLContext.__dict__.get("_pyoxidizer_ssl")
OUT["stock"] = stock
OUT["ours"] = [str(inspect.signature(getattr(ssl.SSLContext, n))) for n in names]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
try:
    ssl.SSLContext.load_verify_locations(self=ctx)
    OUT["by_keyword"] = "accepted"
except TypeError:
    OUT["by_keyword"] = "TypeError"
""")
    assert out["ours"] == out["stock"]
    assert out["by_keyword"] == "TypeError"


def test_a_temporary_seteuid_after_the_first_context(attack):
    """The directory is root's 0700: under seteuid(65534) new contexts load per context, old
    ones fail closed where they need it, and all verify again once the ids are back."""
    out = attack(
        """
readable_bootstrap()
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
old = ssl.create_default_context()
OUT["planted"] = attacker("cat > /dev/shm/%s.0" % EVIL_HASH) == 0
os.setegid(ATTACKER)
os.seteuid(ATTACKER)
OUT["new_during"] = both(ssl.create_default_context())
OUT["old_during"] = both(old)
os.seteuid(0)
os.setegid(0)
OUT["filled"] = attacker(_FILL_OWNED % EVIL_HASH)
OUT["old_after"] = both(old)
OUT["new_after"] = both(ssl.create_default_context())
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""".replace("_FILL_OWNED", repr(_FILL_OWNED))
    )
    assert out["planted"] and out["filled"] == 0
    assert out["new_during"] == out["new_after"] == out["old_after"] == GOOD_EVIL, out["trace"]
    assert out["old_during"][1].startswith("rejected")
    assert "private_dir.ids_changed" in keys(out), out["trace"]


def test_a_store_the_temporary_euid_owns_is_not_ours(attack):
    """Found attacking this design: during a temporary seteuid(65534) "owned by us" meant owned
    by 65534, so a distro candidate that user owns counted as safe."""
    out = attack("""
os.unlink("/etc/ssl/certs")  # RHEL's link to /etc/pki/tls/certs
os.mkdir("/etc/ssl/certs")
os.chown("/etc/ssl/certs", ATTACKER, ATTACKER)  # e.g. handed to a user by mistake
OUT["planted"] = attacker("cat > /etc/ssl/certs/ca-certificates.crt") == 0
readable_bootstrap()
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
os.setegid(ATTACKER)
os.seteuid(ATTACKER)
ctx = ssl.create_default_context()
os.seteuid(0)
os.setegid(0)
OUT["tls"] = both(ctx) + both(ssl.create_default_context())
OUT["trace"] = report.trace
OUT["steps"] = report.steps
""")
    assert out["planted"]
    assert out["tls"] == GOOD_EVIL * 2, "\n".join(out["trace"])
    assert "sources.system.changeable" in keys(out)
