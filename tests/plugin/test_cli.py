"""The pyoxidizer-ssl command, run as a user would: a subprocess with a clean environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.certs import self_signed
from support.env import clean_env


def _cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyoxidizer_ssl", *args],
        cwd=cwd,
        env=clean_env(str(cwd), **env),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


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
        "_cleanup.py",
        "_data.py",
        "_patches.py",
        "_platform.py",
        "_private_dir.py",
        "_report.py",
        "_sources.py",
        "_state.py",
        "_x509.py",
    ]


def test_render_reads_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.pyoxidizer-ssl]\ntrust = ["certifi"]\n')
    proc = _cli("render", "--out", "o", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (
        "TRUST = ('certifi',)" in (tmp_path / "o/pyoxidizer_ssl_bootstrap/__init__.py").read_text()
    )


def test_bad_config_exits_2_with_the_fix(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.pyoxidizer-ssl]\ntrust = ["sytem"]\n')
    proc = _cli("render", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (
        "pyoxidizer-ssl render: error: tool.pyoxidizer-ssl: invalid trust entry 'sytem'; "
        "must be one of 'env', 'system', 'certifi', 'truststore'\n"
    )


def test_doctor_finds_this_hosts_store(tmp_path):
    proc = _cli("doctor", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["source"] == "system" and report["usable"] is True
    assert any(step.startswith("decision: system") for step in report["trace"])
    human = _cli("doctor", cwd=tmp_path)
    assert human.returncode == 0 and human.stdout.startswith("trust: system (")


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
