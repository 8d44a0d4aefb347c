"""multiprocessing in the real binary, the app and its config unchanged (#16.4).

PyOxidizer 0.24's own dispatch kills every spawn worker (`TypeError: 'dict' object cannot be
interpreted as an integer`) and answers the resource tracker's `<exe> -I -c ...` by running the
app again. The wrapped config turns that dispatch off and the shim, the binary's first code,
recognises the helpers' exact argv (templates/pyoxidizer_ssl_bootstrap/_multiprocessing.py).
Workers make a real TLS request to a loopback server whose CA is only in the distro layout's
store: the worker decides trust itself, so it must run the bootstrap too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from support.env import clean_env
from support.layouts import require_namespaces, run_in_layout

MATRIX = [
    ("run_module", "spawn", "pool"),
    ("run_module", "spawn", "process"),
    ("run_module", "forkserver", "pool"),
    ("run_module", "forkserver", "process"),
    ("run_module", "fork", "pool"),
    ("run_module", "fork", "process"),
    ("run_command", "spawn", "pool"),
    ("run_filename", "spawn", "process"),
    ("run_filename", "forkserver", "process"),
]


@pytest.mark.parametrize(("kind", "method", "how"), MATRIX)
def test_worker_verifies_tls(kind, method, how, probe, server, bundle_pem, home, tmp_path):
    require_namespaces()
    argv = [str(probe[kind]), "pool", server, method, how]
    proc = run_in_layout("fedora43", argv, clean_env(home), tmp_path / "ours", bundle_pem)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # One line: a helper that ran the app instead would have printed its own.
    assert proc.stdout.count("\n") == 1, proc.stdout
    # The parent never made a TLS connection: the worker decided, from the distro store.
    assert json.loads(proc.stdout) == {"body": "ok\n", "source": "system", "frozen": True}


def test_plain_binary_fails_where_ours_verifies(probe, server, bundle_pem, home, tmp_path):
    """Without the macros (and with the README's own dispatch), the worker fails TLS there."""
    require_namespaces()
    argv = [str(probe["plain"]), "pool", server]
    plain = run_in_layout("fedora43", argv, clean_env(home), tmp_path / "plain", bundle_pem)
    assert plain.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in plain.stderr, plain.stderr


@pytest.mark.parametrize("kind", ["run_module", "run_command", "broken"])
def test_resource_tracker_runs_as_the_tracker(kind, probe, home):
    """`<exe> -I -c 'from multiprocessing.resource_tracker import main;main(N)'` is the tracker:
    it cleans up the block the app left and says so, and the app does not run a second time.
    Also with the bootstrap missing (the fallback parses the tracker's argv too)."""
    proc = subprocess.run(
        [str(probe[kind]), "shm"],
        env=clean_env(home),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )  # stdout is read until the tracker, which inherits it, exits too
    assert proc.returncode == 0, proc.stderr
    assert list(json.loads(proc.stdout)) == ["tracker"], proc.stdout  # one line: the app's
    assert "leaked shared_memory objects to clean up at shutdown" in proc.stderr, proc.stderr


def test_spawn_worker_with_the_bootstrap_missing(probe, server, home, tmp_path: Path):
    """The fallback dispatches spawn workers too (the stdlib's freeze_support): no worker runs
    the app again; TLS fails there as stock (no distro layout needed to see the worker ran)."""
    proc = subprocess.run(
        [str(probe["broken"]), "pool", server, "spawn", "process"],
        env=clean_env(home),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["source"] is None and out["frozen"] is True
    assert out["body"].startswith("error: "), out
