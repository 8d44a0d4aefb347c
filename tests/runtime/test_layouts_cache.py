"""The between-runs cache in the layouts that split a bundle: a miss, then hits (#20.4).

RHEL 7 (a bundle only) and no store at all (certifi embedded): on disk (~/.cache) the first
run leaves a marker, the second publishes, later runs use the entry as it is; every run
verifies alike (the test CA is in RHEL 7's bundle, in no certifi), and the hit trusts exactly
the certificates the miss laid out.
"""

from __future__ import annotations

import json
import sys

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
