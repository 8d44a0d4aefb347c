"""The between-runs cache in the layouts that split a bundle: a miss, then hits (#20.4).

RHEL 7 (a bundle only) and no store at all (certifi embedded): on disk (~/.cache) the first
run leaves a marker, the second publishes, later runs use the entry as it is; every run
verifies alike (the test CA is in RHEL 7's bundle, in no certifi), and the hit trusts exactly
the certificates the miss laid out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from support.env import CERTIFI_PARENT, clean_env
from support.layouts import LAYOUTS, Layout, run_in_layout
from support.tls import VERIFY_SOURCE, port_of

pytestmark = pytest.mark.usefixtures("namespaces")

_RUNS = """
import json, os, socket, ssl, subprocess, sys
ONE = '''
import json, socket, ssl, sys
sys.path[:0] = json.loads(sys.argv[1])
%s
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
ctx = ssl.create_default_context()
print("RUN " + json.dumps({"tls": verify(ctx, int(sys.argv[2])), "count": report.certificates,
                           "keys": [k for k, _ in report.steps],
                           "certs_at": [m for k, m in report.steps if k == "cache.published"],
                           "certs": sorted(os.listdir(report.capath)) if report.capath else []}))
'''.replace("import json,", "import json, os,")
os.makedirs("/var/vhome/.cache", mode=0o700, exist_ok=True)
os.chmod("/var/vhome", 0o700)
out = []
for _ in range(4):
    proc = subprocess.run([sys.executable, "-I", "-c", ONE, sys.argv[1], sys.argv[2]],
                          env={"PATH": "/usr/bin:/bin", "HOME": "/var/vhome",
                               "XDG_CACHE_HOME": sys.argv[3]},
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out.append(json.loads(proc.stdout.split("RUN ", 1)[1]))
print("RESULT " + json.dumps(out))
"""


@pytest.mark.parametrize("where", ["disk", "memory"])
@pytest.mark.parametrize(("name", "good"), [("rhel7", "ok"), ("no-store", "rejected")])
def test_miss_then_hits(name, good, where, tmp_path, home, server, bundle_pem, render_bootstrap):
    """disk: ~/.cache named by XDG_CACHE_HOME (a marker first, published at the 2nd miss);
    memory: no XDG variable at all (a container, a service): our own directory in /dev/shm,
    published at the first miss."""
    boot = render_bootstrap()
    layout = Layout(name + "-home", (*LAYOUTS[name].steps, ("dir", "/var/vhome")), False, None)
    code = _RUNS.replace("%s", VERIFY_SOURCE.replace("\\", "\\\\"))
    argv = [sys.executable, "-I", "-c", code, json.dumps([str(boot), CERTIFI_PARENT])]
    argv += [str(port_of(server)), "/var/vhome/.cache" if where == "disk" else ""]
    proc = run_in_layout(layout, argv, clean_env(home), tmp_path, bundle_pem)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = json.loads(proc.stdout.split("RESULT ", 1)[1])
    if where == "disk":
        deferred, miss, *hits = runs
        assert "cache.deferred" in deferred["keys"]  # on disk: published at the 2nd miss
    else:
        miss, *hits = runs
        assert "cache.deferred" not in miss["keys"]
        assert any("/dev/shm/pyoxidizer-ssl-0/" in m for m in miss["certs_at"]), miss
    assert "cache.miss" in miss["keys"] and "cache.published" in miss["keys"]
    for hit in hits:
        assert "cache.hit" in hit["keys"] and "cache.published" not in hit["keys"]
        assert hit["count"] == miss["count"] and hit["certs"] == miss["certs"]
    for run in runs:
        assert (run["tls"] == "ok") == (good == "ok"), run


_CERTIFI_RUNS = """
import json, os, shutil, subprocess, sys
ONE = '''
import json, socket, ssl, sys
sys.path[:0] = json.loads(sys.argv[1])
%s
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
ctx = ssl.create_default_context()
print("RUN " + json.dumps({"tls": verify(ctx, int(sys.argv[2])),
                           "keys": [k for k, _ in report.steps]}))
'''
spec = json.loads(sys.argv[1])
os.makedirs("/var/vhome", mode=0o700, exist_ok=True)
os.makedirs("/var/vrun", mode=0o700, exist_ok=True)
package = "/var/ours/certifi"  # root's, like lib/ beside a binary
shutil.copytree(spec["certifi"], package, ignore=shutil.ignore_patterns("__pycache__"))
out = []
for bundle in spec["bundles"]:
    if bundle is not None:  # root replaces cacert.pem (an update of lib/): a new inode
        shutil.copyfile(bundle, package + "/cacert.pem.new")
        os.replace(package + "/cacert.pem.new", package + "/cacert.pem")
    proc = subprocess.run([sys.executable, "-I", "-c", ONE, json.dumps(spec["paths"]),
                           spec["port"]],
                          env={"PATH": "/usr/bin:/bin", "HOME": "/var/vhome",
                               "XDG_RUNTIME_DIR": "/var/vrun"},
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out.append(json.loads(proc.stdout.split("RUN ", 1)[1]))
print("RESULT " + json.dumps(out))
"""


def test_certifi_of_the_same_size_but_other_roots_is_never_taken_for_the_kept_one(
    tmp_path, home, server, ca_pem_bytes, render_bootstrap
):
    """certifi (no file identity) is found by a hint (its size, the executable) and proven by
    comparing its bytes with the copy its entry keeps. Root swaps certifi's last root for the
    test CA, padded to the very same size: the hint names the old entry, the bytes differ, so
    the new bundle is hashed and split (the test CA verifies); swapped back, the first entry's
    roots again (it no longer does). Real handshakes, no store in the layout."""
    import certifi

    boot = render_bootstrap(trust=["certifi"])
    original = Path(certifi.where()).read_text("ascii")
    last = original.rindex("-----BEGIN CERTIFICATE-----")
    ours = ca_pem_bytes.decode("ascii")
    cut = original[:last] + ours
    assert len(cut) < len(original)
    padding = "#" * (len(original) - len(cut) - 1) + "\n"
    swapped = cut + padding
    assert len(swapped) == len(original) and swapped != original
    (tmp_path / "swapped.pem").write_text(swapped)
    (tmp_path / "original.pem").write_text(original)
    files = [str(tmp_path / "swapped.pem"), str(tmp_path / "original.pem")]
    spec = {
        "certifi": str(Path(certifi.__file__).parent),
        "bundles": [None, None, files[0], files[0], files[1]],
        "paths": [str(boot), "/var/ours"],
        "port": str(port_of(server)),
    }
    code = _CERTIFI_RUNS.replace("%s", VERIFY_SOURCE.replace("\\", "\\\\"))
    argv = [sys.executable, "-I", "-c", code, json.dumps(spec)]
    proc = run_in_layout("no-store", argv, clean_env(home), tmp_path / "layout", b"")
    assert proc.returncode == 0, proc.stderr[-3000:]
    miss, hit, changed, hit_new, back = json.loads(proc.stdout.split("RESULT ", 1)[1])
    assert "cache.published" in miss["keys"] and miss["tls"] != "ok"
    assert {"cache.identity_known", "cache.hit"} <= set(hit["keys"]) and hit["tls"] != "ok"
    assert "cache.source_differs" in changed["keys"] and changed["tls"] == "ok", changed
    assert {"cache.identity_known", "cache.hit"} <= set(hit_new["keys"]) and hit_new["tls"] == "ok"
    assert "cache.source_differs" in back["keys"] and back["tls"] != "ok", back
