"""export_env: the decision is exported to child processes, never over an existing setting."""

from __future__ import annotations

import pytest

from support.env import clean_env
from support.layouts import LAYOUTS, RHEL_BUNDLE, Layout, code_in_layout
from support.steps import keys, step

# The child is a plain interpreter without the bootstrap: only the exported variables help it.
BODY = """
import subprocess
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
OUT["env"] = {k: os.environ.get(k) for k in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
child = subprocess.run([sys.executable, "-I", "-c", '''
import socket, ssl, sys
ctx = ssl.create_default_context()
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as sock:
    with ctx.wrap_socket(sock, server_hostname="localhost"):
        print("child ok")
''', str(PORT)], capture_output=True, text=True)
OUT["child"] = child.stdout.strip() or child.stderr.strip().splitlines()[-1]
OUT["trace"] = report.trace
OUT["steps"] = report.steps
"""


pytestmark = pytest.mark.usefixtures("namespaces")


def test_exports_the_distro_bundle(tmp_path, home, server, bundle_pem, render_bootstrap):
    boot = render_bootstrap(export_env=True)
    result = code_in_layout("rhel7", tmp_path, home, server, bundle_pem, boot, BODY)
    assert result["env"] == {"SSL_CERT_FILE": RHEL_BUNDLE, "SSL_CERT_DIR": None}
    assert result["child"] == "child ok"
    assert keys(result).count("export.set") == 1


# A runtime directory as systemd makes it: every directory above is root's and not writable by
# others, so no other user can ever create a name in it, even after ours is removed.
RUNTIME_DIR = "/run/pyoxidizer-ssl-test-runtime"
RHEL7_WITH_RUNTIME_DIR = Layout(
    "rhel7-runtime-dir",
    (*LAYOUTS["rhel7"].steps, ("tmpfs", RUNTIME_DIR, "0700")),
    native_works=False,
    origin=RHEL_BUNDLE,
)


@pytest.fixture
def corp_boot(tmp_path, corp_ca, render_bootstrap):
    pem = tmp_path / "corp.pem"
    corp_ca.cert_pem.write_to_path(str(pem))
    return render_bootstrap(export_env=True, extra_ca=[str(pem)])


@pytest.mark.parametrize(
    ("variable", "exported"),
    [
        # the between-runs cache's entry (HOME is under /tmp: only XDG_RUNTIME_DIR is safe)
        ("XDG_RUNTIME_DIR", RUNTIME_DIR + "/pyoxidizer-ssl/e-"),
        # no cache usable (no XDG_RUNTIME_DIR): the private directory, made in TMPDIR
        ("TMPDIR", RUNTIME_DIR + "/pyoxidizer-ssl-"),
    ],
)
def test_exports_a_private_directory_nobody_else_can_claim(
    tmp_path, home, corp_server, bundle_pem, corp_boot, variable, exported
):
    env = clean_env(home, **{variable: RUNTIME_DIR})
    result = code_in_layout(
        RHEL7_WITH_RUNTIME_DIR, tmp_path / "ns", home, corp_server, bundle_pem, corp_boot, BODY, env
    )
    assert result["env"]["SSL_CERT_FILE"] is None
    assert result["env"]["SSL_CERT_DIR"].startswith(exported)
    assert result["child"] == "child ok"


def test_does_not_export_a_directory_others_could_claim(
    tmp_path, home, corp_server, bundle_pem, corp_boot
):
    """In /dev/shm (sticky, world-writable) the name could be taken once the binary exits."""
    result = code_in_layout(
        "rhel7", tmp_path / "ns", home, corp_server, bundle_pem, corp_boot, BODY
    )
    assert result["env"] == {"SSL_CERT_FILE": None, "SSL_CERT_DIR": None}
    assert result["child"].endswith("unable to get local issuer certificate (_ssl.c:1006)") or (
        "CERTIFICATE_VERIFY_FAILED" in result["child"]
    )
    assert "export.refused" in keys(result) and "export.set" not in keys(result)


def test_never_overrides_an_existing_setting(tmp_path, home, server, bundle_pem, render_bootstrap):
    boot = render_bootstrap(export_env=True, trust=["system", "certifi"])
    env = clean_env(home, SSL_CERT_FILE="/operator/choice.pem")
    result = code_in_layout("rhel7", tmp_path, home, server, bundle_pem, boot, BODY, env=env)
    assert result["env"]["SSL_CERT_FILE"] == "/operator/choice.pem"
    assert "SSL_CERT_FILE" in step(result, "export.already_set")
    assert "export.set" not in keys(result)
