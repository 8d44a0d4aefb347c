"""Does the real pyoxidizer 0.24 read a config? ``pyoxidizer list-targets`` parses the file and
evaluates its top level (load(), definitions, register_target()) without running any target, so
it needs no distribution, Rust or network: a config it lists is one ``pyoxidizer build`` reads.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pyoxidizer_ssl.build import pyoxidizer_command

from .env import clean_env

ROOT = Path(__file__).resolve().parents[2]


def list_targets(text: str, project: Path, home: str) -> subprocess.CompletedProcess[str]:
    """Write ``text`` as ``project``/pyoxidizer.bzl (with our .bzl where its load() looks) and
    run ``pyoxidizer list-targets`` on it from the project, as a build would."""
    macros = project / "build" / "pyoxidizer-ssl" / "pyoxidizer.bzl"
    macros.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "pyoxidizer.bzl", macros)
    (project / "pyoxidizer.bzl").write_text(text)
    return subprocess.run(
        [pyoxidizer_command(), "list-targets", "."],
        cwd=project,
        env=clean_env(home),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
