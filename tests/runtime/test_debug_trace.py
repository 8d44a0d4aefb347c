"""PYOXIDIZER_SSL_DEBUG=1 prints each decision to stderr as it is made; unset, it prints nothing."""

from __future__ import annotations

import sys

import pytest

from support.clients import client_script
from support.env import CERTIFI_PARENT, clean_env
from support.layouts import require_namespaces, run_in_layout


@pytest.mark.parametrize("debug", [True, False])
def test_debug_trace_on_stderr(debug, tmp_path, home, server, bundle_pem, render_bootstrap):
    require_namespaces()
    script = client_script("urllib", server, [str(render_bootstrap()), CERTIFI_PARENT])
    env = clean_env(home, PYOXIDIZER_SSL_DEBUG="1") if debug else clean_env(home)
    proc = run_in_layout(
        "fedora32", [sys.executable, "-I", "-c", script], env, tmp_path, bundle_pem
    )
    assert proc.returncode == 0
    if debug:
        assert "pyoxidizer-ssl: decision: system (/etc/pki/tls/certs/ca-bundle.crt)" in proc.stderr
        assert "pyoxidizer-ssl: system: OpenSSL default dir" in proc.stderr
    else:
        assert proc.stderr == ""
