"""Another local user, and what a run leaves behind, attack the between-runs cache (#20.4).

As in test_attacks.py: a victim (root) in a private mount namespace with the RHEL 7 layout (the
test CA only in the distro store), a fresh sticky /dev/shm where uid 65534 may create names, and
that user's own CA and loopback server. Here the victim runs the bootstrap as a *series of
processes* (runs of the binary) with HOME=/var/vhome (root's, 0700), so an entry published by
one run is what the next one finds. Every handshake is real: "evil" must be rejected in every
run, "good" must work; a refused cache falls back to the private directory (today's path), with
the reason in the trace. Changes made as root stand for the same user or a cleaner: they may
break the cache, never widen trust.
"""

from __future__ import annotations

import json
import sys

import pytest

from pyoxidizer_ssl import x509
from support.env import clean_env
from support.layouts import LAYOUTS, RHEL_BUNDLE, Layout, run_in_layout
from support.tls import VERIFY_SOURCE, port_of

ATTACKER = 65534
VICTIM_HOST = Layout(
    "rhel7-cache",
    (
        *LAYOUTS["rhel7"].steps,
        ("tmpfs", "/dev/shm", "1777"),
        ("tmpfs", "/var/xdg-runtime", "700"),  # what logind makes /run/user/UID
        ("dir", "/var/vhome"),
    ),
    native_works=False,
    origin=RHEL_BUNDLE,
)

# One run of the binary: a fresh process, its first context, both handshakes, its trace.
_RUN = """
import json, os, socket, ssl, sys
sys.path[:0] = json.loads(sys.argv[1])
GOOD, EVIL = json.loads(sys.argv[2])
{verify}
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
ctx = ssl.create_default_context()
out = {{"tls": [verify(ctx, GOOD), verify(ctx, EVIL)], "steps": report.steps,
        "capath": report.capath, "exported": os.environ.get("SSL_CERT_DIR")}}
print("RUN " + json.dumps(out))
"""

# A stock process (no bootstrap): both handshakes with whatever SSL_CERT_DIR names.
_STOCK = """
import json, os, socket, ssl, sys
GOOD, EVIL = json.loads(sys.argv[1])
{verify}
ctx = ssl.create_default_context()
print(json.dumps([verify(ctx, GOOD), verify(ctx, EVIL)]))
"""

_HEAD = """
import json, os, shutil, subprocess, sys
BOOT, PORTS, RUN, STOCK = {boot!r}, {ports!r}, {run!r}, {stock!r}
EVIL_PEM, EVIL_HASH, ATTACKER = {evil_pem!r}, {evil_hash!r}, {attacker!r}
HOME = "/var/vhome"
CACHE = HOME + "/.cache/pyoxidizer-ssl"
OUT = {{}}
os.chmod(HOME, 0o700)
os.makedirs(HOME + "/.cache", mode=0o700, exist_ok=True)

def run(**env):
    # XDG_CACHE_HOME: ~/.cache named (on disk), else /dev/shm would come first; "" unsets it.
    base = {{"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": HOME, "LANG": "C.UTF-8",
             "XDG_CACHE_HOME": HOME + "/.cache"}}
    base.update(env)
    proc = subprocess.run([sys.executable, "-I", "-c", RUN, json.dumps([BOOT]),
                           json.dumps(PORTS)], env=base, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.split("RUN ", 1)[1])
    result["keys"] = [key for key, _ in result["steps"]]
    return result

def published(**env):
    # On disk an entry is published at its key's second miss (the first leaves a marker).
    run(**env)
    return run(**env)

def attacker(script):
    argv = ["setpriv", "--reuid", str(ATTACKER), "--regid", str(ATTACKER), "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "sh", "-c", script]
    return subprocess.run(argv, input=EVIL_PEM, capture_output=True, text=True).returncode

def entries(cache=CACHE):
    return sorted(n for n in os.listdir(cache) if n.startswith("e-"))

def forge(entry):
    # The evil CA added to an entry as a perfect forgery would: named by its hash, the INDEX
    # rewritten to list it, the sentinel mtime put back.
    sys.path.insert(0, BOOT)
    from pyoxidizer_ssl_bootstrap import _cache, _cache_publish
    names = [n for n in os.listdir(entry) if n != "INDEX"] + [EVIL_HASH + ".9"]
    with open(os.path.join(entry, EVIL_HASH + ".9"), "w") as f:
        f.write(EVIL_PEM)
    files = [(n, open(os.path.join(entry, n), "rb").read()) for n in sorted(names)]
    with open(os.path.join(entry, "INDEX"), "wb") as f:
        f.write(_cache_publish.render_index(os.path.basename(entry), files, _cache.boot_id()))
    os.utime(entry, ns=(_cache.SENTINEL_NS, _cache.SENTINEL_NS))
"""

GOOD_EVIL = ["ok", "unable to get local issuer certificate"]

pytestmark = pytest.mark.usefixtures("namespaces")


@pytest.fixture
def victim(tmp_path, home, server, evil_server, evil_ca, bundle_pem, render_bootstrap):
    """Run victim ``body`` (as root) in the layout; return its OUT dict."""

    def _run(body: str, **keys: object) -> dict:
        evil_pem = evil_ca.cert_pem.bytes()
        ((_, der),) = x509.pem_blocks(evil_pem)
        head = _HEAD.format(
            boot=str(render_bootstrap(**keys)),
            ports=[port_of(server), port_of(evil_server)],
            run=_RUN.format(verify=VERIFY_SOURCE),
            stock=_STOCK.format(verify=VERIFY_SOURCE),
            evil_pem=evil_pem.decode(),
            evil_hash=x509.subject_hash(der),
            attacker=ATTACKER,
        )
        code = head + body + '\nprint("RESULT " + json.dumps(OUT))\n'
        argv = [sys.executable, "-I", "-c", code]
        proc = run_in_layout(VICTIM_HOST, argv, clean_env(home), tmp_path, bundle_pem)
        assert proc.returncode == 0, proc.stderr[-3000:]
        result: dict = json.loads(proc.stdout.split("RESULT ", 1)[1])
        return result

    return _run


def test_second_run_hits_and_verifies_like_the_first(victim):
    out = victim("""
OUT["deferred"] = run()
first, second = run(), run()
OUT["first"], OUT["second"] = first, second
OUT["entries"] = entries()
OUT["shm"] = os.listdir("/dev/shm")
""")
    deferred, first, second = out["deferred"], out["first"], out["second"]
    assert deferred["tls"] == GOOD_EVIL and "cache.deferred" in deferred["keys"]
    assert "plan.private_dir" in deferred["keys"] and "cache.published" not in deferred["keys"]
    assert first["tls"] == GOOD_EVIL and second["tls"] == GOOD_EVIL
    assert "cache.miss" in first["keys"] and "cache.published" in first["keys"]
    assert "cache.hit" in second["keys"] and "cache.published" not in second["keys"]
    assert not [k for k in second["keys"] if k.startswith("private_dir.")]
    assert second["capath"].startswith("/proc/self/fd/")
    assert len(out["entries"]) == 1 and out["shm"] == []  # no private directory left


def test_a_cache_directory_another_user_made_is_refused(victim):
    """uid 65534 prepares XDG_CACHE_HOME's pyoxidizer-ssl with a forged entry for our key."""
    out = victim("""
honest = published()  # publishes in ~/.cache; the attacker copies the entry (names are public)
name = entries()[0]
XDG = "/dev/shm/xdg/pyoxidizer-ssl"
OUT["made"] = attacker("mkdir -m 755 /dev/shm/xdg %s && chmod 700 %s" % (XDG, XDG))
shutil.copytree(os.path.join(CACHE, name), "/dev/shm/evil-entry")
forge("/dev/shm/evil-entry")
os.chmod("/dev/shm/evil-entry", 0o700)
subprocess.run(["cp", "-a", "/dev/shm/evil-entry", XDG + "/" + name], check=True)
subprocess.run(["chown", "-R", "%d:%d" % (ATTACKER, ATTACKER), "/dev/shm/xdg"], check=True)
OUT["run"] = run(XDG_CACHE_HOME="/dev/shm/xdg")
""")
    assert out["made"] == 0
    result = out["run"]
    assert result["tls"] == GOOD_EVIL
    assert "cache.refused" in result["keys"] and "cache.hit" not in result["keys"]
    assert "plan.private_dir" in result["keys"]  # today's path: a private directory


def test_xdg_cache_home_through_another_user_s_link_is_refused(victim):
    """The link's target is our own safe cache; the link is theirs to retarget: refused."""
    out = victim("""
published()  # publishes in /var/vhome/.cache
OUT["linked"] = attacker("ln -s /var/vhome/.cache /dev/shm/link") == 0
result = run(XDG_CACHE_HOME="/dev/shm/link")
OUT["run"] = result
""")
    assert out["linked"]
    result = out["run"]
    assert result["tls"] == GOOD_EVIL
    assert "cache.refused" in result["keys"] and "cache.hit" not in result["keys"]
    assert any("symbolic link" in m for k, m in result["steps"] if k == "cache.refused")


@pytest.mark.parametrize(
    "damage",
    ["forged_evil_ca", "renamed_from_another_key", "file_added", "touched", "truncated_index"],
)
def test_an_entry_changed_after_publish_is_refused_and_replaced(victim, damage):
    out = victim(
        """
published()
entry = os.path.join(CACHE, entries()[0])
damage = DAMAGE
if damage == "forged_evil_ca":  # a perfect forgery: INDEX rewritten, sentinel put back
    forge(entry)
    os.utime(entry)  # ...but forging takes writing inside, which moves the mtime
elif damage == "renamed_from_another_key":  # a whole entry of another key under our name
    other = os.path.join(CACHE, "e-" + "0" * 40)
    shutil.copytree(entry, other)
    forge(other)
    shutil.rmtree(entry)
    os.rename(other, entry)
    sys.path.insert(0, BOOT)
    from pyoxidizer_ssl_bootstrap import _cache
    with open(os.path.join(entry, "INDEX"), "rb") as f:
        text = f.read()
    os.utime(entry, ns=(_cache.SENTINEL_NS, _cache.SENTINEL_NS))
    OUT["index_names_other_key"] = b"e-" + b"0" * 40 in text
elif damage == "file_added":
    with open(os.path.join(entry, EVIL_HASH + ".0"), "w") as f:
        f.write(EVIL_PEM)
elif damage == "touched":
    os.utime(entry)
elif damage == "truncated_index":
    index = os.path.join(entry, "INDEX")
    size = os.path.getsize(index)
    with open(index, "r+b") as f:
        f.truncate(size // 2)
    sys.path.insert(0, BOOT)
    from pyoxidizer_ssl_bootstrap import _cache
    os.utime(entry, ns=(_cache.SENTINEL_NS, _cache.SENTINEL_NS))
OUT["after"] = run()
OUT["again"] = run()
""".replace("DAMAGE", repr(damage))
    )
    after, again = out["after"], out["again"]
    assert after["tls"] == GOOD_EVIL and again["tls"] == GOOD_EVIL
    assert "cache.entry_refused" in after["keys"] and "cache.published" in after["keys"]
    assert "cache.hit" in again["keys"]  # the damaged entry was replaced by a good one
    if damage == "renamed_from_another_key":
        assert out["index_names_other_key"]


def test_a_rename_after_the_check_changes_nothing_for_this_process(victim):
    """Contexts name the entry by descriptor: swapping a forged entry in under its name (root,
    standing for a same-user mishap) reaches neither old nor new contexts of a running process."""
    out = victim("""
published()
sys.path.insert(0, BOOT)
import ssl, socket
exec(RUN.split("import pyoxidizer_ssl_bootstrap")[0].split("GOOD, EVIL")[1].split("\\n", 1)[1])
GOOD, EVIL = PORTS
os.environ.clear()
os.environ.update(HOME=HOME, PATH="/usr/bin:/bin", XDG_CACHE_HOME=HOME + "/.cache")
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
old = ssl.create_default_context()
OUT["hit"] = "cache.hit" in [k for k, _ in report.steps]
entry = os.path.join(CACHE, entries()[0])
shutil.copytree(entry, "/var/forged")
forge("/var/forged")
os.rename(entry, entry + ".moved")
os.rename("/var/forged", entry)
from pyoxidizer_ssl_bootstrap import _cache
os.utime(entry, ns=(_cache.SENTINEL_NS, _cache.SENTINEL_NS))
OUT["old"] = [verify(old, GOOD), verify(old, EVIL)]
new = ssl.create_default_context()
OUT["new"] = [verify(new, GOOD), verify(new, EVIL)]
""")
    assert out["hit"]
    assert out["old"] == GOOD_EVIL and out["new"] == GOOD_EVIL


@pytest.mark.parametrize("mode", ["770", "757"])
def test_a_cache_directory_open_to_others_is_refused(victim, mode):
    out = victim(
        """
published()
os.chmod(CACHE, 0oMODE)
OUT["run"] = run()
""".replace("MODE", mode)
    )
    result = out["run"]
    assert result["tls"] == GOOD_EVIL
    assert "cache.refused" in result["keys"] and "cache.hit" not in result["keys"]


def test_xdg_runtime_dir_first_and_in_memory(victim):
    out = victim("""
OUT["first"] = run(XDG_RUNTIME_DIR="/var/xdg-runtime")
OUT["second"] = run(XDG_RUNTIME_DIR="/var/xdg-runtime")
OUT["there"] = os.listdir("/var/xdg-runtime/pyoxidizer-ssl")
OUT["home_cache"] = os.path.exists(CACHE)
""")
    assert out["first"]["tls"] == GOOD_EVIL and out["second"]["tls"] == GOOD_EVIL
    assert "cache.hit" in out["second"]["keys"]
    assert [n for n in out["there"] if n.startswith("e-")] and not out["home_cache"]
    published = [m for k, m in out["first"]["steps"] if k == "cache.published"]
    assert published and "(in memory)" in published[0]


def test_a_setuid_run_uses_no_cache(victim):
    """Real uid another's, effective root (a setuid binary): no cache is read or written."""
    out = victim("""
published()  # a normal run published an entry
argv = ["setpriv", "--ruid", str(ATTACKER), sys.executable, "-I", "-c", RUN,
        json.dumps([BOOT]), json.dumps(PORTS)]
proc = subprocess.run(argv, env={"PATH": "/usr/bin:/bin", "HOME": HOME},
                      capture_output=True, text=True)
OUT["run"] = json.loads(proc.stdout.split("RUN ", 1)[1]) if "RUN " in proc.stdout else proc.stderr
""")
    result = out["run"]
    assert isinstance(result, dict), result
    keys = [k for k, _ in result["steps"]]
    assert result["tls"] == GOOD_EVIL
    assert "cache.unavailable" in keys and "cache.hit" not in keys


def test_export_env_exports_the_entry_which_outlives_the_run(
    victim, tmp_path, corp_ca, corp_server
):
    """export_env with an extra CA: children get the entry's real path; after the binary exits
    a stock process still verifies through it (the extra CA is only there), rejects the
    attacker's server, and nobody else can claim the name."""
    corp = tmp_path / "corp.pem"
    corp_ca.cert_pem.write_to_path(str(corp))
    out = victim(
        """
published()
second = run()
OUT["second"] = second
ports = [CORP, PORTS[1]]
proc = subprocess.run([sys.executable, "-I", "-c", STOCK, json.dumps(ports)],
                      env={"PATH": "/usr/bin:/bin", "SSL_CERT_DIR": second["exported"] or ""},
                      capture_output=True, text=True)
OUT["child"] = json.loads(proc.stdout) if proc.returncode == 0 else proc.stderr
OUT["entries"] = [os.path.join(CACHE, n) for n in entries()]
""".replace("CORP", str(port_of(corp_server))),
        export_env=True,
        extra_ca=[str(corp)],
    )
    second = out["second"]
    assert second["tls"] == GOOD_EVIL and "cache.hit" in second["keys"]
    assert second["exported"] in out["entries"]
    assert out["child"] == GOOD_EVIL  # a stock process, after ours exited


def test_a_bundle_rewritten_in_place_is_read_anew_not_known_by_its_old_identity(victim):
    """An unchanged bundle names its entry by identity (no hashing); the same bundle rewritten
    in place (same inode, same size, the mtime put back, as a tool preserving timestamps
    would) with the test CA swapped for the attacker's is hashed again: this run trusts what
    the file now holds, never the entry of what it held. (Root stands for the store's owner:
    another user cannot write the store at all, the ownership walk refuses one they could.)"""
    out = victim("""
import time
runtime = "/var/xdg-runtime"
time.sleep(3.2)  # the bundle the layout just wrote settles (_cache.RACY_NS)
OUT["first"] = run(XDG_RUNTIME_DIR=runtime)
OUT["second"] = run(XDG_RUNTIME_DIR=runtime)
bundle = "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
old = open(bundle, "rb").read()
info = os.stat(bundle)
begin = b"-----BEGIN CERTIFICATE-----"
new = old[: old.rindex(begin)] + EVIL_PEM.encode()
if len(new) > len(old):  # drop the first root to make room
    new = new[new.index(begin, 1):]
new += b"\\n" * (len(old) - len(new))
with open(bundle, "r+b") as f:
    f.write(new)
os.utime(bundle, ns=(info.st_atime_ns, info.st_mtime_ns))
after = os.stat(bundle)
OUT["same"] = [after.st_ino == info.st_ino, after.st_size == info.st_size,
               after.st_mtime_ns == info.st_mtime_ns, after.st_ctime_ns != info.st_ctime_ns]
OUT["changed"] = run(XDG_RUNTIME_DIR=runtime)
time.sleep(3.2)  # settled again: now remembered by its new identity
OUT["settled"] = run(XDG_RUNTIME_DIR=runtime)
OUT["known"] = run(XDG_RUNTIME_DIR=runtime)
""")
    first, second = out["first"], out["second"]
    assert first["tls"] == GOOD_EVIL and second["tls"] == GOOD_EVIL
    assert {"cache.published", "cache.identity_remembered"} <= set(first["keys"])
    assert {"cache.identity_known", "cache.hit"} <= set(second["keys"])
    assert out["same"] == [True, True, True, True]
    swapped = ["unable to get local issuer certificate", "ok"]
    for name in ("changed", "settled", "known"):
        assert out[name]["tls"] == swapped, name
    assert "cache.identity_known" not in out["changed"]["keys"]
    assert "cache.published" in out["changed"]["keys"]
    assert "cache.identity_known" not in out["settled"]["keys"]
    assert {"cache.hit", "cache.identity_remembered"} <= set(out["settled"]["keys"])
    assert {"cache.identity_known", "cache.hit"} <= set(out["known"]["keys"])


def test_no_xdg_variable_caches_in_our_own_dev_shm_directory(victim):
    """A container or a service (no XDG_RUNTIME_DIR, no XDG_CACHE_HOME): the entry goes in
    memory, /dev/shm/pyoxidizer-ssl-0 (ours, 0700), published at the first miss; the next run
    hits; ~/.cache is not touched. uid 65534 can neither rename nor remove our directory there
    (sticky /dev/shm), nor enter it."""
    out = victim("""
OUT["first"] = run(XDG_CACHE_HOME="")
OUT["mode"] = oct(os.lstat("/dev/shm/pyoxidizer-ssl-0").st_mode)
OUT["moved"] = attacker("mv /dev/shm/pyoxidizer-ssl-0 /dev/shm/x")
OUT["removed"] = attacker("rm -rf /dev/shm/pyoxidizer-ssl-0")
OUT["listed"] = attacker("ls /dev/shm/pyoxidizer-ssl-0")
OUT["second"] = run(XDG_CACHE_HOME="")
OUT["home_cache"] = os.listdir(HOME + "/.cache")
""")
    first, second = out["first"], out["second"]
    assert first["tls"] == GOOD_EVIL and second["tls"] == GOOD_EVIL
    published = [m for k, m in first["steps"] if k == "cache.published"]
    assert published and "/dev/shm/pyoxidizer-ssl-0/e-" in published[0]
    assert "(in memory)" in published[0] and "cache.deferred" not in first["keys"]
    assert out["mode"] == oct(0o40700)
    assert out["moved"] != 0 and out["removed"] != 0 and out["listed"] != 0
    assert "cache.hit" in second["keys"] and second["capath"].startswith("/proc/self/fd/")
    assert out["home_cache"] == []


@pytest.mark.parametrize("squat", ["forged_dir", "open_dir", "link_to_theirs"])
def test_a_dev_shm_name_another_user_took_first_is_refused(victim, squat):
    """uid 65534 takes /dev/shm/pyoxidizer-ssl-0 before our first run: their 0700 directory
    holding a forged entry for our key (names are public), one open to all, or a link to
    their own. Refused (the trace says why); the run goes on to ~/.cache as before."""
    out = victim(
        """
published()  # an honest entry in ~/.cache, which the attacker copies
name = entries()[0]
squat = SQUAT
if squat == "forged_dir":
    shutil.copytree(os.path.join(CACHE, name), "/var/evil-entry")
    forge("/var/evil-entry")
    os.makedirs("/dev/shm/pyoxidizer-ssl-0", mode=0o700)
    subprocess.run(["cp", "-a", "/var/evil-entry", "/dev/shm/pyoxidizer-ssl-0/" + name],
                   check=True)
    subprocess.run(["chown", "-R", "%d:%d" % (ATTACKER, ATTACKER),
                    "/dev/shm/pyoxidizer-ssl-0"], check=True)
    OUT["made"] = 0
elif squat == "open_dir":
    OUT["made"] = attacker("mkdir -m 777 /dev/shm/pyoxidizer-ssl-0")
else:
    OUT["made"] = attacker("mkdir -m 700 /dev/shm/theirs && "
                           "ln -s /dev/shm/theirs /dev/shm/pyoxidizer-ssl-0")
OUT["run"] = run(XDG_CACHE_HOME="")
""".replace("SQUAT", repr(squat))
    )
    assert out["made"] == 0
    result = out["run"]
    assert result["tls"] == GOOD_EVIL
    refused = [m for k, m in result["steps"] if k == "cache.refused"]
    assert refused and "/dev/shm/pyoxidizer-ssl-0" in refused[0]
    hits = [m for k, m in result["steps"] if k == "cache.hit"]
    assert hits and "/var/vhome/.cache/pyoxidizer-ssl/" in hits[0]  # today's place, on disk
