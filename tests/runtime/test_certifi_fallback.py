"""With no store at all the embedded certifi bundle is the trust, exactly and only it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import certifi
import pytest

from pyoxidizer_ssl import x509
from support.env import CERTIFI_PARENT, clean_env
from support.layouts import run_in_layout

# Run under umask 0, so that the modes below are the bootstrap's own, not the umask's.
_INSPECT = """
import json, os, ssl, sys
sys.path[:0] = {paths!r}
os.umask(0)
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
ssl.create_default_context()
files, file_modes = {{}}, set()
for path in (report.capath or "").split(os.pathsep):
    for name in sorted(os.listdir(path)):
        with open(os.path.join(path, name)) as f:
            files[name] = f.read()
        file_modes.add(oct(os.stat(os.path.join(path, name)).st_mode & 0o777))
mode = oct(os.stat(report.capath).st_mode & 0o777)
real = os.path.realpath(report.capath)  # contexts get /proc/self/fd/N; this is the directory
heavy = sorted(m for m in ("tempfile", "typing", "shutil", "random") if m in sys.modules)
print("RESULT " + json.dumps(dict(source=report.source, cafile=report.cafile,
      capath=report.capath, real=real, mode=mode, files=files, file_modes=sorted(file_modes),
      heavy=heavy)))
"""


def _inspect(work: Path, home: str, bundle_pem: bytes, boot: Path) -> dict:
    """install() and one context in the no-store layout; what the trust location holds."""
    code = _INSPECT.format(paths=[str(boot), CERTIFI_PARENT])
    proc = run_in_layout(
        "no-store", [sys.executable, "-I", "-c", code], clean_env(home), work, bundle_pem
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.split("RESULT ", 1)[1])


pytestmark = pytest.mark.usefixtures("namespaces")


def test_trust_location_holds_exactly_certifi(tmp_path, home, bundle_pem, render_bootstrap):
    out = _inspect(tmp_path, home, bundle_pem, render_bootstrap())
    assert out["source"] == "certifi" and out["cafile"] is None
    assert out["mode"] == "0o700"
    expected = {der for _, der in x509.pem_blocks(Path(certifi.where()).read_bytes())}
    got = {}
    for name, text in out["files"].items():
        ((_, der),) = x509.pem_blocks(text.encode())
        got[der] = name
        assert name.split(".")[0] == x509.subject_hash(der)
    assert set(got) == expected


def test_private_dir_is_fresh_private_and_cheap(tmp_path, home, bundle_pem, render_bootstrap):
    """Made without tempfile: still 0700/0600 under umask 0, an unguessable new name per run,
    and the first TLS context imports none of tempfile's (or typing's) dependencies."""
    boot = render_bootstrap()
    seen = []
    for run in range(2):
        out = _inspect(tmp_path / str(run), home, bundle_pem, boot)
        assert out["mode"] == "0o700" and out["file_modes"] == ["0o600"]
        assert out["heavy"] == []
        assert re.fullmatch(r"/proc/self/fd/\d+", out["capath"])
        assert re.fullmatch(r"pyoxidizer-ssl-[0-9a-f]{16}", Path(out["real"]).name)
        seen.append(out["real"])
    assert seen[0] != seen[1]
