"""``pyoxidizer-ssl doctor``: what would my binary trust on this host, and why?

Renders the config into a private temporary directory and runs ``install()`` plus one real
``ssl.create_default_context()`` in a fresh isolated interpreter with this host's environment,
so the answer comes from the same code the binary runs.
"""

from __future__ import annotations

import ast
import json
import os
import re
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


def _count(number: int, noun: str) -> str:
    """``1 certificate``, ``2 certificates``: a count with its noun right."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _decision(report: dict[str, Any]) -> str:
    """Source and origin, once each: ``certifi (embedded)``, ``system (/etc/ssl/cert.pem)``."""
    if not report["usable"]:
        return (
            f"NOTHING USABLE ({report['source'] or 'no source'}) - "
            "TLS verification will fail on this host"
        )
    source, origin = report["source"], report["origin"]
    if not origin or origin == source:
        return str(source)
    if origin.startswith(f"{source} "):  # "certifi (embedded)" already names its source
        return str(origin)
    return f"{source} ({origin})"


# The bootstrap's trace step naming the private directory: where it was made, and the path
# contexts load it by (on Linux a descriptor of doctor's own child, gone when it exits).
_PRIVATE_DIR = re.compile(r"^hashed directory (.+) \(contexts use (.+)\): ")


def _private_dir(report: dict[str, Any]) -> tuple[str | None, str]:
    """(the path contexts were given, what the binary would use) for the private directory."""
    for step in report["trace"]:
        found = _PRIVATE_DIR.match(step)
        if found is None:
            continue
        try:
            real, given = (ast.literal_eval(part) for part in found.groups())
        except (ValueError, SyntaxError):
            break
        if isinstance(real, str) and isinstance(given, str):
            return given, f"a private directory in {os.path.dirname(real)}"
        break
    return None, "a private directory"


def _locations(report: dict[str, Any], key: str) -> str:
    """cafile or capath as the binary would have it: doctor's own private directory is
    replaced by where each run of the binary makes its own."""
    value = report[key]
    if not value:
        return "-"
    given, described = _private_dir(report)
    parts = value.split(os.pathsep) if key == "capath" else [value]
    shown = [
        described if part == given or part.startswith("/proc/self/fd/") else part for part in parts
    ]
    if described in shown:
        shown[shown.index(described)] += " (each run of the binary makes its own)"
    return ", then ".join(shown)


def format_report(report: dict[str, Any]) -> str:
    """Return the human-readable doctor output: what the binary would do on this host."""
    headline = f"trust: {_decision(report)}"
    counts: dict[str, int] = report.get("env_certificates", {})
    if report["usable"] and report["certificates"] is not None:
        headline += f", {_count(report['certificates'], 'certificate')}"
    elif counts:  # SSL_CERT_FILE/SSL_CERT_DIR, loaded as they are: counted here
        where = {"SSL_CERT_FILE": "certificate", "SSL_CERT_DIR": "hashed certificate"}
        headline += ", " + ", ".join(
            f"{_count(counts[k], where[k])} in {k}" for k in ENV_VARIABLES if k in counts
        )
    lines = [headline]
    lines.append(f"cafile: {_locations(report, 'cafile')}")
    lines.append(f"capath: {_locations(report, 'capath')}")
    if "shell_env" in report:
        names = sorted(report["shell_env"])
        without = report["without_env"]
        count = without["certificates"] if without["usable"] else None
        lines.append(
            f"note: this answer comes from this shell's {' and '.join(names)}; started without "
            f"{'it' if len(names) == 1 else 'them'}, the binary would trust: {_decision(without)}"
            + (f", {_count(count, 'certificate')}" if count else "")
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
