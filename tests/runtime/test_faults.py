"""Host faults at run time: the app never crashes, verification is never weakened, the trace
says what happened. Every context made here is checked for CERT_REQUIRED and check_hostname."""

from __future__ import annotations

import pytest

from support.env import clean_env, honour_file_modes
from support.layouts import RHEL_BUNDLE, Layout, code_in_layout
from support.steps import keys, step, steps

INSTALL = """
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
"""
REPORT = """
OUT["source"] = report.source
OUT["usable"] = report.usable
OUT["trace"] = report.trace
OUT["steps"] = report.steps
"""


pytestmark = pytest.mark.usefixtures("namespaces")


@pytest.fixture
def run(tmp_path, home, server, bundle_pem, render_bootstrap):
    def _run(layout, body, env=None, prefix=None, bundle=None):
        return code_in_layout(
            layout,
            tmp_path / "ns",
            home,
            server,
            bundle or bundle_pem,
            render_bootstrap(),
            body,
            env=env,
            prefix=prefix,
        )

    return _run


def _strict(result):
    """The env decision stood alone: nothing usable, and no other source was tried."""
    assert "sources.env.unusable" in keys(result)
    assert not [key for key in keys(result) if key.startswith(("sources.system", "sources.cert"))]


ENV_FILE_CASES = {
    "missing": ("/nonexistent.pem", "", "sources.env.file.unreadable"),
    "directory": ("/etc/pki", "", "sources.env.file.directory"),
    "empty": ("/tmp/empty.pem", "", "sources.env.file.no_certificates"),
    "garbage": ("/tmp/garbage.pem", "xx", "sources.env.file.no_certificates"),
}


@pytest.mark.parametrize("case", sorted(ENV_FILE_CASES))
def test_bad_ssl_cert_file_is_strict(case, run, home, tmp_path):
    path, content, key = ENV_FILE_CASES[case]
    if path.startswith("/tmp/"):
        path = str(tmp_path / path[5:])
        with open(path, "w") as f:
            f.write(content)
    result = run(
        "rhel7",
        INSTALL + 'OUT["tls"] = handshake()' + REPORT,
        env=clean_env(home, SSL_CERT_FILE=path),
    )
    assert result["tls"] == "unable to get local issuer certificate"
    assert (result["source"], result["usable"]) == ("env", False)
    assert repr(path) in step(result, key)
    _strict(result)


def test_unreadable_ssl_cert_file(run, home, tmp_path, ca):
    path = tmp_path / "locked.pem"
    ca.cert_pem.write_to_path(str(path))
    path.chmod(0)
    result = run(
        "rhel7",
        INSTALL + 'OUT["tls"] = handshake()' + REPORT,
        env=clean_env(home, SSL_CERT_FILE=str(path)),
        prefix=honour_file_modes([]),
    )
    assert result["tls"] == "unable to get local issuer certificate"
    assert step(result, "sources.env.file.unreadable").endswith(
        f"'{path}': Permission denied; skipped"
    )
    _strict(result)


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("empty", "sources.env.dir.no_certificates"),
        ("missing", "sources.env.dir.unreadable"),
    ],
)
def test_bad_ssl_cert_dir(kind, key, run, home, tmp_path):
    path = tmp_path / "certs"
    if kind == "empty":
        path.mkdir()
    result = run(
        "rhel7",
        INSTALL + 'OUT["tls"] = handshake()' + REPORT,
        env=clean_env(home, SSL_CERT_DIR=str(path)),
    )
    assert result["tls"] == "unable to get local issuer certificate"
    assert repr(str(path)) in step(result, key)
    _strict(result)


def test_symlink_loop_in_a_probed_path(run):
    layout = Layout(
        "loop",
        (
            ("link", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/pki/tls/certs/loop.crt"),
            ("link", "/etc/pki/tls/certs/loop.crt", "/etc/pki/tls/certs/ca-bundle.crt"),
            ("bundle", "/etc/ssl/ca-bundle.pem"),
        ),
        native_works=False,
        origin="/etc/ssl/ca-bundle.pem",
    )
    result = run(layout, INSTALL + 'OUT["tls"] = handshake()' + REPORT)
    assert result["tls"] == "ok"
    assert (
        "system: candidate '/etc/pki/tls/certs/ca-bundle.crt': Too many levels of symbolic "
        "links; skipped"  # the path and the OS's reason, named to the reader
    ) in steps(result, "sources.system.file.unreadable")
    assert step(result, "decision.made") == "decision: system (/etc/ssl/ca-bundle.pem)"


def test_half_valid_bundle_keeps_the_valid_certificates(run, bundle_pem, ca):
    corrupt = b"-----BEGIN CERTIFICATE-----\nMIIB!!!not base64!!!\n-----END CERTIFICATE-----\n"
    bundle = bundle_pem.replace(ca.cert_pem.bytes(), corrupt + ca.cert_pem.bytes())
    result = run("rhel7", INSTALL + 'OUT["tls"] = handshake()' + REPORT, bundle=bundle)
    assert result["tls"] == "ok"
    assert step(result, "plan.undecodable").startswith(f"'{RHEL_BUNDLE}': 1 certificate")


def test_read_only_tmp_falls_back_to_per_context_loading(run):
    body = INSTALL + 'OUT["tls"] = [handshake(), handshake()]' + REPORT
    result = run("rhel7-read-only-tmp", body)
    assert result["tls"] == ["ok", "ok"]
    assert any("Read-only file system" in m for m in steps(result, "private_dir.parent_refused"))
    assert "private_dir.none" in keys(result) and "plan.private_dir" not in keys(result)


def test_home_unset(run, home):
    env = clean_env(home)
    del env["HOME"]
    result = run("fedora43", INSTALL + 'OUT["tls"] = handshake()' + REPORT, env=env)
    assert (result["tls"], result["source"]) == ("ok", "system")


def test_hundred_threads_right_after_install(run):
    body = (
        INSTALL
        + """
import threading
results = []
def worker():
    try:
        results.append(handshake())
    except Exception as exc:  # anything but a verification result is reported, not lost
        results.append(repr(exc))
threads = [threading.Thread(target=worker) for _ in range(100)]
for t in threads: t.start()
for t in threads: t.join()
OUT["results"] = sorted(set(results)) + [len(results)]
"""
        + REPORT
    )
    result = run("rhel7", body)
    assert result["results"] == ["ok", 100]
    assert keys(result).count("decision.made") == 1
    assert keys(result).count("plan.private_dir") == 1


def test_install_twice_and_from_threads(run):
    body = (
        """
import threading, pyoxidizer_ssl_bootstrap
reports = []
threads = [threading.Thread(target=lambda: reports.append(pyoxidizer_ssl_bootstrap.install()))
           for _ in range(20)]
for t in threads: t.start()
for t in threads: t.join()
report = pyoxidizer_ssl_bootstrap.install()
OUT["same"] = all(r is report for r in reports) and len(reports) == 20
OUT["same"] = OUT["same"] and isinstance(report, pyoxidizer_ssl_bootstrap.Report)
OUT["tls"] = handshake()
OUT["patched_once"] = sum(key == "patches.ssl" for key, _ in report.steps)
"""
        + REPORT
    )
    result = run("rhel7", body)
    assert (result["same"], result["tls"], result["patched_once"]) == (True, "ok", 1)
    assert keys(result).count("start.version") == 1


def test_fork_child_works_and_leaves_the_parents_directory(run):
    body = (
        INSTALL
        + """
OUT["parent_before"] = handshake()
capath = report.capath
pid = os.fork()
if pid == 0:
    code = 0 if handshake() == "ok" else 3
    sys.exit(code)  # a normal exit: atexit runs in the child too
_, status = os.waitpid(pid, 0)
OUT["child_exit"] = os.waitstatus_to_exitcode(status)
OUT["dir_kept"] = os.path.isdir(capath)
OUT["parent_after"] = handshake()
import multiprocessing
with multiprocessing.get_context("fork").Pool(2) as pool:
    OUT["pool"] = pool.map(handshake, [None] * 4)
"""
        + REPORT
    )
    result = run("rhel7", body)
    assert (result["parent_before"], result["child_exit"], result["dir_kept"]) == ("ok", 0, True)
    assert result["parent_after"] == "ok" and result["pool"] == ["ok"] * 4


def test_spawn_worker_that_cannot_import_the_bootstrap_still_runs(run):
    # A plain interpreter: the worker starts without the parent's runtime sys.path insertion, so
    # the unpickled install hook cannot import the bootstrap. It must swallow that, not crash.
    body = (
        INSTALL
        + """
import multiprocessing
with multiprocessing.get_context("spawn").Pool(1) as pool:
    OUT["worker"] = pool.apply(sum, ([20, 22],))
"""
        + REPORT
    )
    result = run("rhel7", body)
    assert result["worker"] == 42
    assert "patches.spawn" in keys(result)


def test_app_changes_ssl_cert_file_after_start(run):
    body = (
        INSTALL
        + """
OUT["before"] = handshake()
os.environ["SSL_CERT_FILE"] = "/nonexistent.pem"
OUT["strict"] = handshake()
del os.environ["SSL_CERT_FILE"]
OUT["after"] = handshake()
"""
        + REPORT
    )
    result = run("rhel7", body)
    assert (result["before"], result["strict"], result["after"]) == (
        "ok",
        "unable to get local issuer certificate",
        "ok",
    )
    changes = steps(result, "decision.env_changed")
    assert len(changes) == 2
    assert "('/nonexistent.pem', None)" in changes[0] and "(None, None)" in changes[1]


def test_ssl_and_requests_imported_before_install(run):
    body = (
        """
import ssl, requests
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
OUT["tls"] = handshake()
OUT["requests"] = requests.get(URL, timeout=10).status_code
"""
        + REPORT
    )
    result = run("rhel7", body)
    assert (result["tls"], result["requests"]) == ("ok", 200)
    early = [words.split()[0] for words in steps(result, "start.patch_imported")]
    assert {"ssl", "certifi"} <= set(early)
