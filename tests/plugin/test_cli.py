"""The pyoxidizer-ssl command, run as a user would: a subprocess with a clean environment."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from pyoxidizer_ssl import adopt, cli
from pyoxidizer_ssl import render as render_mod
from support.certs import self_signed
from support.commands import pyoxidizer_ssl
from support.env import clean_env


def _cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return pyoxidizer_ssl(*args, cwd=cwd, env=clean_env(str(cwd), **env), timeout=120)


def test_help_teaches(tmp_path):
    proc = _cli("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for word in ("render", "doctor", "PYOXIDIZER_SSL_DEBUG", "SSL_CERT_FILE"):
        assert word in proc.stdout
    proc = _cli("render", "--help", cwd=tmp_path)
    assert "--extra-ca FILE" in proc.stdout and "--out DIR" in proc.stdout


def test_render_default_out(tmp_path):
    proc = _cli("render", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    package = tmp_path / "build" / "pyoxidizer-ssl" / "pyoxidizer_ssl_bootstrap"
    assert proc.stdout.strip() == str(package.relative_to(tmp_path))
    assert sorted(p.name for p in package.iterdir()) == [
        "__init__.py",
        "_cache.py",
        "_cache_publish.py",
        "_cleanup.py",
        "_data.py",
        "_export.py",
        "_grpc.py",
        "_hashed_copy.py",
        "_install.py",
        "_layout.py",
        "_multiprocessing.py",
        "_patches.py",
        "_plan.py",
        "_platform.py",
        "_private_dir.py",
        "_report.py",
        "_run.py",
        "_sources.py",
        "_state.py",
        "_store_dir.py",
        "_verdicts.py",
        "_x509.py",
    ]


def test_render_reads_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.pyoxidizer-ssl]\ntrust = ["certifi"]\n')
    proc = _cli("render", "--out", "o", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (
        "TRUST = ('certifi',)" in (tmp_path / "o/pyoxidizer_ssl_bootstrap/__init__.py").read_text()
    )


def test_grpc_switch_from_pyproject_and_flag(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.pyoxidizer-ssl]\ngrpc = false\n")
    for flags, expected in (((), "GRPC = False"), (("--grpc",), "GRPC = True")):
        proc = _cli("render", "--out", "o", *flags, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert expected in (tmp_path / "o/pyoxidizer_ssl_bootstrap/__init__.py").read_text()


def test_bad_config_exits_2_with_the_fix(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.pyoxidizer-ssl]\ntrust = ["sytem"]\n')
    proc = _cli("render", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (
        "pyoxidizer-ssl render: error: tool.pyoxidizer-ssl: invalid trust entry 'sytem'; "
        "must be one of 'env', 'system', 'certifi', 'truststore'\n"
    )


# What doctor finds in a system store is tested in controlled distro layouts, not on whatever
# store this host happens to have: tests/runtime/test_layouts.py::test_doctor_in_a_layout.


def test_doctor_exits_1_when_env_points_at_nothing(tmp_path):
    proc = _cli("doctor", cwd=tmp_path, SSL_CERT_FILE=str(tmp_path / "missing.pem"))
    assert proc.returncode == 1
    assert proc.stdout.startswith("trust: NOTHING USABLE (env)")
    assert "No such file or directory" in proc.stdout


def test_doctor_with_certifi_only(tmp_path):
    proc = _cli("doctor", "--json", "--trust", "certifi", cwd=tmp_path)
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["source"] == "certifi"
    assert report["certificates"] > 100 and report["capath"]
    steps = report["steps"]  # the trace as data: a stable key beside each step's words
    assert [step["message"] for step in steps] == report["trace"]
    keys = [step["key"] for step in steps]
    assert "sources.certifi.found" in keys and "plan.private_dir" in keys
    assert keys.count("decision.made") == 1


NASTY_NAME = "q'uo\"te\\back\nnew é {{ x }} {% if %}.pem"


def test_nasty_extra_ca_path_renders_the_same_module(tmp_path, ca_pem_bytes):
    nasty = tmp_path / NASTY_NAME
    plain = tmp_path / "plain.pem"
    nasty.write_bytes(ca_pem_bytes)
    plain.write_bytes(ca_pem_bytes)
    for name, path in (("a", nasty), ("b", plain)):
        proc = _cli("render", "--out", name, "--extra-ca", str(path), cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    a = tmp_path / "a" / "pyoxidizer_ssl_bootstrap"
    b = tmp_path / "b" / "pyoxidizer_ssl_bootstrap"
    for module in sorted(p.name for p in a.iterdir()):
        text = (a / module).read_bytes()
        compile(text, module, "exec")
        assert text == (b / module).read_bytes()  # paths never reach the generated code


def test_expiring_extra_ca_warns_and_renders(tmp_path):
    import datetime as dt

    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=5)
    path = tmp_path / "soon.pem"
    path.write_bytes(self_signed("Soon Root", not_after=soon))
    proc = _cli("render", "--extra-ca", str(path), cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stderr.startswith(
        f"warning: --extra-ca: extra_ca {str(path)!r} (Soon Root) expires on"
    )
    assert proc.stderr.rstrip().endswith("within 30 days; replace it before then")


def test_explicit_config_is_honoured_with_project(tmp_path):
    """--config is used as given, also for build and init (not redirected into PROJECT)."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.pyoxidizer-ssl]\ntrust = ["system"]\n')
    (tmp_path / "pyproject.toml").write_text('[tool.pyoxidizer-ssl]\ntrust = ["certifi"]\n')
    init = project / "build/pyoxidizer-ssl/pyoxidizer_ssl_bootstrap/__init__.py"
    proc = _cli("init", "--project", "proj", "--write", "--app", "p", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "TRUST = ('system',)" in init.read_text()  # default: PROJECT/pyproject.toml
    proc = _cli("init", "--config", "pyproject.toml", "--project", "proj", "--write", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "TRUST = ('certifi',)" in init.read_text()
    proc = _cli("init", "--config", "none.toml", "--project", "proj", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr  # a missing file means all defaults
    assert "TRUST = ('env', 'system', 'certifi')" in init.read_text()


# A ValueError in the house format is still a bug: the words never choose the exit code.
HOUSE_FORMAT_BUG = ValueError("--out: invalid directory 'x'; must be one you can write")


@pytest.mark.parametrize(
    "error", [RuntimeError("boom"), ValueError("boom"), KeyError("k"), HOUSE_FORMAT_BUG]
)
def test_internal_error_is_not_a_usage_error(error, tmp_path, monkeypatch, capsys):
    def broken(config, out):
        raise error

    monkeypatch.setattr(cli, "render", broken)
    monkeypatch.delenv(cli.TRACEBACK_VARIABLE, raising=False)
    assert cli.main(["render", "--out", str(tmp_path)]) == cli.EXIT_INTERNAL == 70
    err = capsys.readouterr().err
    assert err == (
        f"pyoxidizer-ssl render: internal error: {type(error).__name__}: {error}; this is a bug "
        "in pyoxidizer-ssl, please report it (set PYOXIDIZER_SSL_TRACEBACK=1 to print where "
        "it happened)\n"
    )
    monkeypatch.setenv(cli.TRACEBACK_VARIABLE, "1")
    assert cli.main(["render", "--out", str(tmp_path)]) == 70
    assert "Traceback (most recent call last)" in capsys.readouterr().err


T = "tool.pyoxidizer-ssl"
SOURCES = "'env', 'system', 'certifi', 'truststore'"
BUG = (
    "; this is a bug in pyoxidizer-ssl, please report it (set PYOXIDIZER_SSL_TRACEBACK=1 to print "
    "where it happened)"
)


@dataclass(frozen=True)
class Failure:
    """``pyoxidizer-ssl argv`` run in a directory holding ``files`` ({tmp} is that directory),
    with ``env`` set and the package version ``version``: exit ``code``, stderr ``message``."""

    argv: tuple[str, ...]
    code: int
    message: str
    files: tuple[tuple[str, str], ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    version: str | None = None


FAILURES = {
    "config table": Failure(
        ("render",),
        2,
        f"render: error: {T}: invalid trust entry 'sytem'; must be one of {SOURCES}",
        files=(("pyproject.toml", '[tool.pyoxidizer-ssl]\ntrust = ["sytem"]\n'),),
    ),
    "config key": Failure(
        ("doctor",),
        2,
        f"doctor: error: {T}: invalid key 'trsut'; must be one of 'trust', 'extra_ca', "
        "'export_env', 'python_version', 'grpc'; remove or rename it",
        files=(("pyproject.toml", '[tool.pyoxidizer-ssl]\ntrsut = ["env"]\n'),),
    ),
    "flag --trust": Failure(
        ("render", "--trust", ""),
        2,
        f"render: error: --trust: invalid trust []; must be a non-empty list of sources from "
        f"{SOURCES}",
    ),
    "flag --python-version": Failure(
        ("render", "--python-version", "3.7"),
        2,
        "render: error: --python-version: invalid python_version '3.7'; must be a CPython "
        "version like '3.10' (3.8 to 3.13)",
    ),
    "extra_ca check": Failure(
        ("render", "--extra-ca", "corp.pem"),
        2,
        "render: error: --extra-ca: invalid extra_ca '{tmp}/corp.pem'; file not found; must be "
        "a readable PEM file of CA certificates",
    ),
    "render --out": Failure(
        ("render", "--out", "file/out"),
        2,
        "render: error: --out: invalid output directory 'file/out'; cannot write it (Not a "
        "directory); pass a directory you can write",
        files=(("file", ""),),
    ),
    "build --project": Failure(
        ("build",),
        2,
        "build: error: --project: invalid project '.'; it has no pyoxidizer.bzl; pass the "
        "directory of your PyOxidizer project",
    ),
    "build --distribution": Failure(
        ("build", "--distribution", "cpython.tar.zst"),
        2,
        "build: error: --distribution: invalid archive 'cpython.tar.zst'; file not found; pass "
        "a python-build-standalone .tar.zst archive",
        files=(("pyoxidizer.bzl", ""),),
    ),
    "build --cargo-target-dir": Failure(
        ("build", "--cargo-target-dir", "target"),
        2,
        "build: error: --cargo-target-dir: invalid use with 'target'; it needs --system-rust "
        "(pyoxidizer's own Rust ignores it)",
        files=(("pyoxidizer.bzl", ""),),
    ),
    "build --system-rust": Failure(
        ("build", "--system-rust"),
        2,
        "build: error: --system-rust: invalid environment; no cargo/rustc on PATH; install Rust "
        "(https://rustup.rs) and put ~/.cargo/bin on PATH",
        files=(("pyoxidizer.bzl", ""),),
        env=(("PATH", "{tmp}/no-rust"),),
    ),
    "init --project": Failure(
        ("init", "--project", "nope"),
        2,
        "init: error: --project: invalid project 'nope'; no such directory; pass the directory "
        "of your PyOxidizer project",
    ),
    "doctor --python": Failure(
        ("doctor", "--python", "nope/python"),
        2,
        "doctor: error: --python: invalid interpreter 'nope/python'; it cannot be run (No such "
        "file or directory); pass a Python 3.8+ executable",
    ),
    "doctor check cannot run": Failure(
        ("doctor", "--python", "/bin/false"),
        3,
        "doctor: error: the check interpreter '/bin/false' failed (exit 1): no output",
    ),
    "render invariant": Failure(
        ("render",),
        70,
        "render: internal error: ValueError: render: invalid header text '0.1.0 beta'" + BUG,
        version="0.1.0 beta",
    ),
}


@pytest.mark.parametrize("name", FAILURES)
def test_failure_exit_code_and_exact_message(name, tmp_path, monkeypatch, capsys):
    """The exit code follows the error's class: the same words in a bug exit 70, not 2."""
    case = FAILURES[name]
    for file, text in case.files:
        (tmp_path / file).write_text(text)
    for key, value in case.env:
        monkeypatch.setenv(key, value.format(tmp=tmp_path))
    monkeypatch.delenv("PYOXIDIZER_SYSTEM_RUST", raising=False)  # build must stop at the check
    monkeypatch.delenv(cli.TRACEBACK_VARIABLE, raising=False)
    if case.version is not None:
        monkeypatch.setattr(render_mod, "_version", lambda: case.version)
    monkeypatch.chdir(tmp_path)
    code = cli.main(list(case.argv))
    out, err = capsys.readouterr()
    assert (code, err) == (case.code, f"pyoxidizer-ssl {case.message.format(tmp=tmp_path)}\n")
    assert out == ""


def test_argparse_mistakes_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["render", "--bogus"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "pyoxidizer-ssl: error: unrecognized arguments: --bogus"
    )


def test_doctor_check_that_cannot_run_is_a_message_not_a_traceback(tmp_path):
    proc = _cli("doctor", "--python", shutil.which("false") or "/bin/false", cwd=tmp_path)
    assert proc.returncode == 3 and proc.stdout == ""
    assert proc.stderr.startswith("pyoxidizer-ssl doctor: error: the check interpreter ")
    assert "failed (exit 1)" in proc.stderr and "Traceback" not in proc.stderr
    proc = _cli("doctor", "--python", str(tmp_path / "nope"), cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr == (
        f"pyoxidizer-ssl doctor: error: --python: invalid interpreter "
        f"'{tmp_path / 'nope'}'; it cannot be run (No such file or directory); "
        "pass a Python 3.8+ executable\n"
    )


def test_doctor_says_the_answer_comes_from_this_shell(tmp_path):
    """With SSL_CERT_FILE set, doctor counts its certificates and shows the run without it."""
    bundle = tmp_path / "one.pem"
    bundle.write_bytes(self_signed("Shell Root"))
    args = ("doctor", "--trust", "env,certifi")
    proc = _cli(*args, "--json", cwd=tmp_path, SSL_CERT_FILE=str(bundle))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["source"] == "env"
    assert report["env_certificates"] == {"SSL_CERT_FILE": 1}
    assert report["shell_env"] == {"SSL_CERT_FILE": str(bundle)}
    assert report["without_env"]["source"] == "certifi"
    certifi_count = report["without_env"]["certificates"]
    assert certifi_count > 1
    human = _cli(*args, cwd=tmp_path, SSL_CERT_FILE=str(bundle)).stdout.splitlines()
    assert human[:3] == [
        f"trust: env (SSL_CERT_FILE={bundle}), 1 certificate in SSL_CERT_FILE",
        f"cafile: {bundle}",
        "capath: -",
    ]
    assert (
        "note: this answer comes from this shell's SSL_CERT_FILE; started without it, the "
        f"binary would trust: certifi (embedded), {certifi_count} certificates"
    ) in human
    plain = json.loads(_cli(*args, "--json", cwd=tmp_path).stdout)
    assert "shell_env" not in plain and "env_certificates" not in plain


def test_doctor_speaks_of_what_the_binary_would_do(tmp_path):
    """The private directory is where the binary would make its own, never doctor's descriptor;
    source and origin are said once; --json keeps the report's keys and values as they are."""
    shm = tmp_path / "shm"
    shm.mkdir(mode=0o700)
    args = ("doctor", "--trust", "certifi")
    report = json.loads(_cli(*args, "--json", cwd=tmp_path, TMPDIR=str(shm)).stdout)
    assert sorted(report) == [
        "cafile",
        "capath",
        "certificates",
        "disabled",
        "origin",
        "source",
        "steps",
        "stock_binary",
        "trace",
        "usable",
    ]
    assert (report["source"], report["origin"]) == ("certifi", "certifi (embedded)")
    assert report["capath"].startswith("/proc/self/fd/")  # what doctor's own child loaded
    proc = _cli(*args, cwd=tmp_path, TMPDIR=str(shm))
    assert proc.returncode == 0, proc.stderr
    human = proc.stdout.splitlines()
    assert human[:3] == [
        f"trust: certifi (embedded), {report['certificates']} certificates",
        "cafile: -",
        f"capath: a private directory in {shm} (each run of the binary makes its own)",
    ]
    assert "/proc/self/fd" not in "\n".join(human[: human.index("trace:")])


def test_init_without_pyoxidizer_bzl_says_so(tmp_path):
    (tmp_path / "myapp").mkdir()
    (tmp_path / "myapp" / "__init__.py").write_text("")
    proc = _cli("init", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("init: . has no pyoxidizer.bzl; `pyoxidizer-ssl init --write`")
    assert proc.stdout == adopt.starter("myapp")
    assert not (tmp_path / "pyoxidizer.bzl").exists()
    proc = _cli("init", "--write", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "pyoxidizer.bzl").read_text() == adopt.starter("myapp")


def test_init_prints_the_edit_and_writes_it(tmp_path):
    before = "def make_exe(dist):\n    return dist.to_python_executable(name = 'a')\n"
    bzl = tmp_path / "pyoxidizer.bzl"
    bzl.write_text(before)
    after = adopt.adopt(before).text
    proc = _cli("init", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == adopt.diff(before, after, "pyoxidizer.bzl")
    assert bzl.read_text() == before  # printed, not applied
    assert (tmp_path / "build/pyoxidizer-ssl/pyoxidizer.bzl").is_file()
    patch = subprocess.run(
        ["git", "apply", "--check", "-"],
        input=proc.stdout,
        cwd=tmp_path,
        env=clean_env(str(tmp_path)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert patch.returncode == 0, patch.stderr  # the diff applies as it is
    proc = _cli("init", "--write", cwd=tmp_path)
    assert proc.returncode == 0 and bzl.read_text() == after
    again = _cli("init", cwd=tmp_path)
    assert again.returncode == 0
    assert again.stdout.startswith("pyoxidizer.bzl already uses pyoxidizer-ssl; nothing to change")


def test_init_on_a_config_it_cannot_edit(tmp_path):
    (tmp_path / "pyoxidizer.bzl").write_text("def f():\n    return 1\n")
    proc = _cli("init", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        "pyoxidizer-ssl init: error: init: invalid pyoxidizer.bzl 'pyoxidizer.bzl'; it calls no "
        "DIST.to_python_executable()"
    )


def test_readme_quick_start_is_the_starter_config():
    """The README's quick-start config is what `init --write` creates, so the build that links
    the starter (tests/exe/test_first_build.py) proves both."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start = readme.index("```starlark\n# myproject/pyoxidizer.bzl")
    block = readme[start : readme.index("```\n", start + 3)].split("\n", 2)[2]
    assert block == adopt.starter("myapp").split("\n", 3)[3]
