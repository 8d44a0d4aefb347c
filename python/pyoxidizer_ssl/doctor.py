"""``pyoxidizer-ssl doctor``: what would my binary trust on this host, and why?

Renders the config into a private temporary directory and runs ``install()`` plus one real
``ssl.create_default_context()`` in a fresh isolated interpreter with this host's environment,
so the answer comes from the same code the binary runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import certifi

from . import x509
from .config import Config, ConfigError
from .errors import CheckError
from .render import render, runtime_constant

# Where python-build-standalone's OpenSSL looks: what a binary without pyoxidizer-ssl trusts.
PBS_CAFILE = "/etc/ssl/cert.pem"
PBS_CAPATH = "/etc/ssl/certs"

_CHILD = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
import pyoxidizer_ssl_bootstrap as bootstrap
report = bootstrap.install()
import ssl
ssl.create_default_context()
print(json.dumps(report.as_dict()))
"""


# The variables the runtime reads, from its own source (one definition: _sources.ENV_VARS).
ENV_VARIABLES: tuple[str, ...] = runtime_constant("_sources.py", "ENV_VARS")


class DoctorError(CheckError):
    """The check itself could not run (the interpreter failed or printed no report)."""


def diagnose(config: Config, python: str | None = None) -> dict[str, Any]:
    """Return the report of a fresh interpreter that ran the rendered bootstrap.

    With this shell's SSL_CERT_FILE/SSL_CERT_DIR set (and ``env`` in the trust order), the
    answer reflects them; ``without_env`` then holds the report of a run without them, which is
    what the binary does on this host when started elsewhere.
    """
    environ = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="pyoxidizer-ssl-doctor-") as tmp:
        render(config, Path(tmp))
        result = _check(python or sys.executable, tmp, environ)
        shell = {name: environ[name] for name in ENV_VARIABLES if environ.get(name)}
        if shell and "env" in config.trust:
            result["shell_env"] = shell
            bare = {k: v for k, v in environ.items() if k not in ENV_VARIABLES}
            result["without_env"] = _check(python or sys.executable, tmp, bare)
    if result["source"] == "env":
        result["env_certificates"] = env_certificates(result["cafile"], result["capath"])
    result["stock_binary"] = stock_binary()
    return result


def _check(python: str, rendered: str, environ: dict[str, str]) -> dict[str, Any]:
    certifi_parent = str(Path(certifi.__file__).resolve().parent.parent)
    paths = json.dumps([rendered, certifi_parent])
    try:
        proc = subprocess.run(
            [python, "-I", "-c", _CHILD, paths],
            capture_output=True,
            text=True,
            env=environ,
            check=False,
        )
    except OSError as exc:
        raise ConfigError(
            f"--python: invalid interpreter {python!r}; it cannot be run ({exc.strerror}); "
            "pass a Python 3.8+ executable"
        ) from None
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        last = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        raise DoctorError(
            f"the check interpreter {python!r} failed (exit {proc.returncode}): {last[0]}"
        )
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except ValueError:
        raise DoctorError(
            f"the check interpreter {python!r} printed no report: {lines[-1][:200]!r}"
        ) from None
    return result


def env_certificates(cafile: str | None, capath: str | None) -> dict[str, int]:
    """Count what SSL_CERT_FILE (PEM blocks) and SSL_CERT_DIR (hashed entries) hold."""
    counts: dict[str, int] = {}
    if cafile:
        try:
            with open(cafile, "rb") as f:
                counts["SSL_CERT_FILE"] = x509.count_certificate_markers(f.read())
        except OSError:
            counts["SSL_CERT_FILE"] = 0
    for directory in (capath or "").split(os.pathsep) if capath else []:
        try:
            names = os.listdir(directory)
        except OSError:
            names = []
        hashed = [n for n in names if x509.is_hash_name(n)]
        counts["SSL_CERT_DIR"] = counts.get("SSL_CERT_DIR", 0) + len(hashed)
    return counts


def stock_binary() -> dict[str, Any]:
    """Would a PyOxidizer binary *without* pyoxidizer-ssl find certificates on this host?"""
    try:
        with open(PBS_CAFILE, "rb") as f:
            cafile_ok = x509.count_certificate_markers(f.read()) > 0
    except OSError:
        cafile_ok = False
    try:
        names = os.listdir(PBS_CAPATH)
    except OSError:
        names = []
    capath_ok = any(
        x509.is_hash_name(n) and os.path.isfile(os.path.join(PBS_CAPATH, n)) for n in names
    )
    return {
        "cafile": PBS_CAFILE,
        "capath": PBS_CAPATH,
        "usable": cafile_ok or capath_ok,
    }


def _decision(report: dict[str, Any]) -> str:
    if not report["usable"]:
        return (
            f"NOTHING USABLE ({report['source'] or 'no source'}) - "
            "TLS verification will fail on this host"
        )
    return f"{report['source']} ({report['origin']})"


def format_report(report: dict[str, Any]) -> str:
    """Return the human-readable doctor output."""
    lines = [f"trust: {_decision(report)}"]
    lines.append(f"cafile: {report['cafile'] or '-'}")
    lines.append(f"capath: {report['capath'] or '-'}")
    if report["certificates"] is not None:
        lines.append(f"certificates: {report['certificates']}")
    counts = report.get("env_certificates", {})
    if counts:
        where = {"SSL_CERT_FILE": "in SSL_CERT_FILE", "SSL_CERT_DIR": "hashed in SSL_CERT_DIR"}
        lines.append(
            "certificates: "
            + ", ".join(f"{counts[k]} {where[k]}" for k in ENV_VARIABLES if k in counts)
        )
    if "shell_env" in report:
        names = " and ".join(sorted(report["shell_env"]))
        without = report["without_env"]
        lines.append(
            f"note: this answer comes from this shell's {names}; "
            f"started without them, the binary would trust: {_decision(without)}"
            + (f", {without['certificates']} certificates" if without["certificates"] else "")
        )
    stock = report["stock_binary"]
    verdict = "would find certificates" if stock["usable"] else "would FAIL every HTTPS call"
    lines.append(
        f"without pyoxidizer-ssl: a binary looking in {stock['cafile']} and {stock['capath']} "
        f"{verdict} here"
    )
    lines.append("trace:")
    lines.extend(f"  - {step}" for step in report["trace"])
    return "\n".join(lines)
