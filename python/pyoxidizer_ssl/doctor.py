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
from .config import Config
from .render import render

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


def diagnose(config: Config, python: str | None = None) -> dict[str, Any]:
    """Return the report of a fresh interpreter that ran the rendered bootstrap."""
    with tempfile.TemporaryDirectory(prefix="pyoxidizer-ssl-doctor-") as tmp:
        render(config, Path(tmp))
        certifi_parent = str(Path(certifi.__file__).resolve().parent.parent)
        paths = json.dumps([tmp, certifi_parent])
        proc = subprocess.run(
            [python or sys.executable, "-I", "-c", _CHILD, paths],
            capture_output=True,
            text=True,
            env=dict(os.environ),
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(
            f"doctor: the check interpreter failed (exit {proc.returncode}):\n{proc.stderr}"
        )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["stock_binary"] = stock_binary()
    return result


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


def format_report(report: dict[str, Any]) -> str:
    """Return the human-readable doctor output."""
    lines = []
    if not report["usable"]:
        lines.append(
            f"trust: NOTHING USABLE ({report['source'] or 'no source'}) - "
            "TLS verification will fail on this host"
        )
    else:
        lines.append(f"trust: {report['source']} ({report['origin']})")
    lines.append(f"cafile: {report['cafile'] or '-'}")
    lines.append(f"capath: {report['capath'] or '-'}")
    if report["certificates"] is not None:
        lines.append(f"certificates: {report['certificates']}")
    stock = report["stock_binary"]
    verdict = "would find certificates" if stock["usable"] else "would FAIL every HTTPS call"
    lines.append(
        f"without pyoxidizer-ssl: a binary looking in {stock['cafile']} and {stock['capath']} "
        f"{verdict} here"
    )
    lines.append("trace:")
    lines.extend(f"  - {step}" for step in report["trace"])
    return "\n".join(lines)
