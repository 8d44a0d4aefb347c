"""The real pyoxidizer 0.24 and oxidized_importer 0.6, driven as a user's build and binary would.

``pyoxidizer_build`` runs ``pyoxidizer-ssl build`` on a project with a local distribution;
``run_embedded`` executes the resulting packed resources under CPython 3.10 with the real
oxidized_importer (see embedded_run.py). oxidized_importer has cp310 wheels only, so a private
copy is installed once from PyPI into the test cache.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .commands import pyoxidizer_ssl
from .env import clean_env, need, python_for

OXIDIZED_IMPORTER = "oxidized_importer==0.6.0"
_RUNNER = Path(__file__).with_name("embedded_run.py")
_TRIPLE = "x86_64-unknown-linux-gnu"


@dataclass(frozen=True)
class Built:
    """What a resources target produced: the packed blob and the generated interpreter config."""

    resources: Path
    config_rs: str

    def interpreter(self) -> dict[str, object]:
        """run_command and x_options, as pyembed would apply them."""
        return {
            "run_command": _rust_option(self.config_rs, "run_command"),
            "x_options": _rust_strings(self.config_rs, "x_options"),
            "run_module": _rust_option(self.config_rs, "run_module"),
            "inspect": re.search(r"\binspect: (Some\(true\)|None|Some\(false\))", self.config_rs)[
                1
            ],
            "multiprocessing_auto_dispatch": re.search(
                r"\bmultiprocessing_auto_dispatch: (true|false)", self.config_rs
            )[1],
        }


def _unescape(text: str) -> str:
    out = re.sub(r"\\u\{([0-9a-f]+)\}", lambda m: chr(int(m[1], 16)), text)
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), out)


def _rust_option(config_rs: str, field: str) -> str | None:
    match = re.search(
        rf"\b{field}: (None|Some\(\"((?:[^\"\\]|\\.)*)\"\.to_string\(\)\))", config_rs
    )
    assert match, f"{field} not in default_python_config.rs"
    return None if match[1] == "None" else _unescape(match[2])


def _rust_strings(config_rs: str, field: str) -> list[str]:
    match = re.search(rf"\b{field}: (None|Some\(vec!\[)", config_rs)
    assert match, f"{field} not in default_python_config.rs"
    if match[1] == "None":
        return []
    values = []
    literal = re.compile(r'\s*"((?:[^"\\]|\\.)*)"\.to_string\(\),?')
    pos = match.end()
    while (item := literal.match(config_rs, pos)) is not None:
        values.append(_unescape(item[1]))
        pos = item.end()
    assert config_rs[pos:].lstrip().startswith("])"), config_rs[pos : pos + 80]
    return values


def pyoxidizer_build(
    project: Path, distribution: Path, home: str, *extra: str, target: str = "resources"
) -> tuple[subprocess.CompletedProcess[str], Built | None]:
    """Run ``pyoxidizer-ssl build --distribution`` on ``project``; return the process and output."""
    args = ["build", "--project", str(project), "--distribution", str(distribution), target]
    proc = pyoxidizer_ssl(*args, *extra, cwd=project, env=clean_env(home))
    out = project / "build" / _TRIPLE / "debug" / target
    if proc.returncode != 0 or not (out / "packed-resources").exists():
        return proc, None
    return proc, Built(out / "packed-resources", (out / "default_python_config.rs").read_text())


def oxidized_python(cache: Path) -> tuple[str, Path]:
    """CPython 3.10 and a directory holding the real oxidized_importer for it."""
    python = python_for("3.10")
    need(
        python is not None, "needs a local CPython 3.10 (pyenv install 3.10) for oxidized_importer"
    )
    assert python is not None
    target = cache / "oxidized_importer-0.6.0"
    if not (target / "oxidized_importer").exists() and not list(
        target.glob("oxidized_importer*.so")
    ):
        shutil.rmtree(target, ignore_errors=True)
        # A download, not a test of our code: it keeps this machine's proxy/CA settings.
        proc = subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--target", str(target), OXIDIZED_IMPORTER],
            capture_output=True,
            text=True,
            check=False,
        )
        need(proc.returncode == 0, f"cannot install {OXIDIZED_IMPORTER} from PyPI: {proc.stderr}")
    return python, target


def embedded_command(
    python: str, oxidized: Path, built: Built, work: Path, *args: str
) -> list[str]:
    """argv that runs the built resources like the binary, with ``args`` as the app's argv."""
    work.mkdir(parents=True, exist_ok=True)
    config = work / "interpreter.json"
    config.write_text(json.dumps(built.interpreter()))
    return [
        python,
        "-S",
        "-I",
        str(_RUNNER),
        str(oxidized),
        str(built.resources),
        str(config),
        *args,
    ]


def executable_wrapper(python: str, work: Path) -> Path:
    """A script standing in for the binary when multiprocessing starts spawn workers."""
    work.mkdir(parents=True, exist_ok=True)
    wrapper = work / "binary"
    wrapper.write_text(f'#!/bin/sh\nexec "{python}" -S -I "{_RUNNER}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def shim_run_command() -> str:
    """PYOXIDIZER_SSL_RUN_COMMAND as pyoxidizer.bzl defines it (its only escape is \\n)."""
    bzl = (Path(__file__).resolve().parents[2] / "pyoxidizer.bzl").read_text()
    found = re.search(r'^PYOXIDIZER_SSL_RUN_COMMAND = "(.*)"$', bzl, re.M)
    assert found, "pyoxidizer.bzl defines no PYOXIDIZER_SSL_RUN_COMMAND"
    return found[1].replace("\\n", "\n")


def without_fallback(x_options: object) -> list[str]:
    """A wrapped config's x_options less the shim's last one, the fallback code (checked)."""
    assert isinstance(x_options, list) and x_options, x_options
    assert x_options[-1].startswith("pyoxidizer_ssl.fallback=exec('''import sys\n"), x_options[-1]
    return [str(option) for option in x_options[:-1]]
