"""``pyoxidizer-ssl build``: render, then run the real ``pyoxidizer build`` with our --vars.

Offline and air-gapped builds (PyOxidizer#697) pass a local python-build-standalone archive; its
SHA-256 is computed here so the config never has to hard-code one.

An ``exe`` target is linked by cargo. Without ``PYOXIDIZER_SYSTEM_RUST`` pyoxidizer 0.24 downloads
its own Rust 1.66; ``--system-rust`` uses the cargo and rustc on PATH instead, through a small
cargo shim that makes today's cargo fit pyoxidizer 0.24 (see ``_CARGO_SHIM``).

When a build fails for a reason a first build meets - a Python distribution or Rust toolchain
that cannot be downloaded, crates that cannot be fetched, a shared-library extension module under
a memory-only policy, a load() path that is not there - pyoxidizer's own output ends with one more
line, ``pyoxidizer-ssl build: error: <the cause and the fix>`` (``find_cause``), naming the flag or
the config line that fixes it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import certifi

from .errors import UsageError
from .render import DEFAULT_OUT


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pyoxidizer_command() -> str:
    """The pyoxidizer executable installed beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "pyoxidizer"
    if beside.exists():
        return str(beside)
    found = shutil.which("pyoxidizer")
    if found is None:
        raise UsageError(
            "build: invalid environment; no pyoxidizer executable found; "
            "pip install pyoxidizer==0.24.0"
        )
    return found


def build_vars(project: Path, distribution: Path | None) -> dict[str, str]:
    """The --var values the macros in pyoxidizer.bzl read; UsageError for a bad project/archive."""
    if not (project / "pyoxidizer.bzl").is_file():
        raise UsageError(
            f"--project: invalid project {str(project)!r}; it has no pyoxidizer.bzl; "
            "pass the directory of your PyOxidizer project"
        )
    values = {
        "PYOXIDIZER_SSL_DIR": str((project / DEFAULT_OUT).resolve()),
        "PYOXIDIZER_SSL_CERTIFI_DIR": str(Path(certifi.__file__).resolve().parent.parent),
    }
    if distribution is not None:
        if not distribution.is_file():
            raise UsageError(
                f"--distribution: invalid archive {str(distribution)!r}; file not found; "
                "pass a python-build-standalone .tar.zst archive"
            )
        values["PYOXIDIZER_SSL_DISTRIBUTION"] = str(distribution.resolve())
        values["PYOXIDIZER_SSL_DISTRIBUTION_SHA256"] = sha256_of(distribution)
    return values


# pyoxidizer 0.24 with a system Rust runs `cargo init` for a throw-away project, then parses its
# Cargo.toml with the cargo_toml 0.14 crate, which knows no edition past 2021; cargo >= 1.85
# writes `edition = "2024"`, and the build then fails after compiling with "data did not match any
# variant of untagged enum Inheritable for key `package.edition`". The shim asks for 2021.
# With a shared target directory, it also points the throw-away project's `--target-dir` (always
# a fresh temporary directory) at that one through a symlink, so every build after the first
# reuses the compiled crates.
_CARGO_SHIM = """#!/bin/sh
# Written by pyoxidizer-ssl build --system-rust: cargo for pyoxidizer 0.24 (see build.py).
real={real}
shared={shared}
case "$1" in
init|new)
  command=$1
  shift
  exec "$real" "$command" --edition 2021 "$@"
  ;;
build)
  if [ -n "$shared" ]; then
    previous=
    for arg in "$@"; do
      if [ "$previous" = --target-dir ] && [ ! -e "$arg" ]; then
        mkdir -p "$shared" "$(dirname "$arg")" && ln -s "$shared" "$arg"
      fi
      previous=$arg
    done
  fi
  ;;
esac
exec "$real" "$@"
"""

# What a first build meets, recognised by what it is (the step pyoxidizer names, the URL it
# fetched), never by one line's number in an error chain: that numbering changes with the target
# (`0: resolving Rust toolchain` under `exe` is `1:` under `install`, which wraps it in
# "adding PythonExecutable to FileManifest"). Each kind is a constant; a caller or a test matches
# the kind, the words are for people.
DISTRIBUTION_DOWNLOAD = "distribution-download"
RUST_DOWNLOAD = "rust-download"
RUST_MISSING = "rust-missing"
RUST_TOO_OLD = "rust-too-old"
CRATES = "crates"
MEMORY_ONLY = "memory-only"
LOAD_PATH = "load-path"
LINKER = "linker"
MACRO_ARGUMENT = "macro-argument"
EXTRA_ARGUMENT = "extra-argument"

# The fix for a shared-library extension module, as the config line that does it.
FALLBACK_LINE = 'policy.resources_location_fallback = "filesystem-relative:lib"'

_CRATES_NEEDLES = (
    "failed to download",
    "failed to get `",
    "Unable to update registry",
    "failed to fetch",
    "failed to query replaced source registry",
    "no matching package named",
    "spurious network error",
    "failed to load source for dependency",
    "--offline was specified",  # offline with nothing in the crates cache
)
_RUST_HOST = "https://static.rust-lang.org/"
# `target Python distribution for TRIPLE resolves to: URL (sha256=...)`, then `downloading URL`.
_DISTRIBUTION_URL = re.compile(r"Python distribution for \S+ resolves to: (\S+)")
_DOWNLOADING = re.compile(r"^downloading (\S+)$", re.MULTILINE)
_RUST_VERSION = re.compile(r"ensuring Rust toolchain (\S+) is available")
_MEMORY_ONLY = re.compile(
    r"extension module (\S+) cannot be loaded from memory but memory loading required"
)
# An anyhow error chain, as printed (`    2: reason`) or inside a Debug string (`\n    2: reason`).
_CHAIN_STEP = re.compile(r"^\s*\d+: (.+)$", re.MULTILINE)
# A macro's own fail(): its message already names the value and the fix.
_MACRO_FAIL = re.compile(r"^error(?:\[\w+\])?: fail\(\): (pyoxidizer_ssl_\w+: invalid .+)$", re.M)
# Starlark's message for one argument too many, then where: ` --> FILE:LINE:COL`, `LINE | code`.
_EXTRA_ARGUMENT = re.compile(
    r"Extraneous parameter passed to function call\n\s*--> (\S+?):(\d+):\d+\n"
    r"(?:\s*\|\n)?\s*\d+ \|(.*)\n"
)
_LOAD = re.compile(r"""^\s*load\(\s*(["'])([^"'\n]+)\1""", re.MULTILINE)


@dataclass(frozen=True)
class Cause:
    """Why a build failed: ``kind`` (one of the constants above) and ``message``, the cause
    and the flag or config line that fixes it, for the one line ``run_build`` ends with."""

    kind: str
    message: str


def _innermost(output: str) -> str:
    """The last step of the last error chain in ``output``: the root cause, in its own words."""
    steps: list[str] = _CHAIN_STEP.findall(output.replace("\\n", "\n"))
    if not steps:
        return "no reason given"
    return steps[-1].split('", label: ')[0].strip()


def _rust_download(output: str) -> str | None:
    failed = "resolving Rust toolchain" in output or any(
        line.lstrip().startswith(("error", "Caused by")) or "error sending request" in line
        for line in output.splitlines()
        if _RUST_HOST in line
    )
    if not failed:
        return None
    found = _RUST_VERSION.search(output)
    version = f" {found.group(1)}" if found else ""
    return (
        f"pyoxidizer could not download its own Rust{version} toolchain from "
        f"static.rust-lang.org ({_innermost(output)}); build with --system-rust to use the "
        "cargo and rustc on PATH (install them from https://rustup.rs if there are none)"
    )


def _distribution_download(output: str, distribution: bool) -> str | None:
    urls = _DISTRIBUTION_URL.findall(output) + _DOWNLOADING.findall(output)
    urls = [url for url in urls if not url.startswith(_RUST_HOST)]
    failed = [url for url in urls if f"for url ({url})" in output]
    if not failed and not (urls and "resolve_distribution()" in output):
        return None
    url = (failed or urls)[0]
    if distribution:
        return (
            f"pyoxidizer tried to download a Python distribution ({url}) although "
            "--distribution was given: this pyoxidizer.bzl does not make its distribution with "
            "pyoxidizer_ssl_distribution(vars = VARS), which takes the archive; call it where "
            "the config calls default_python_distribution() (`pyoxidizer-ssl init` prints the "
            "edit)"
        )
    return (
        f"pyoxidizer could not download its Python distribution ({url}: "
        f"{_innermost(output)}); build offline with --distribution ARCHIVE, a "
        "python-build-standalone .tar.zst copied from a machine that can fetch that URL "
        "(README: where an offline archive comes from)"
    )


def _memory_only(output: str) -> str | None:
    found = _MEMORY_ONLY.search(output)
    if found is None:
        return None
    return (
        f"extension module {found.group(1)} is a shared library, which cannot be loaded from "
        f"memory: give the executable a packaging policy with {FALLBACK_LINE} (policy = "
        "dist.make_python_packaging_policy(), then packaging_policy = policy), and install with "
        'exe.to_file_manifest(".") for the binary and its lib/'
    )


def _load_path(output: str, project: Path | None) -> str | None:
    if "error[CP04]: IOError: No such file or directory" not in output:
        return None
    missing: list[str] = []
    if project is not None:
        try:
            text = (project / "pyoxidizer.bzl").read_text(errors="replace")
        except OSError:
            text = ""
        missing = [path for _, path in _LOAD.findall(text) if not (project / path).is_file()]
    what = (
        f"pyoxidizer.bzl loads {missing[0]!r}, which is not there"
        if missing
        else "a file that pyoxidizer.bzl load()s was not found"
    )
    return (
        f"{what}: PyOxidizer resolves load() paths against the directory it runs in (pyoxidizer-"
        'ssl build runs it in the project); load("build/pyoxidizer-ssl/pyoxidizer.bzl", ...), '
        "where pyoxidizer-ssl build renders the macros, and run a plain `pyoxidizer build` only "
        "from the project directory"
    )


def _macro_argument(output: str) -> str | None:
    found = _MACRO_FAIL.findall(output)
    return found[-1].strip() if found else None


def _extra_argument(output: str) -> str | None:
    found = _EXTRA_ARGUMENT.search(output)
    if found is None:
        return None
    path, line, code = found.groups()
    return (
        f"{path.removeprefix('./')} line {line} passes an argument that the function it calls "
        f"does not take ({code.strip()}): a misspelt keyword or a positional argument too many; "
        "compare the call with the function's parameters (pyoxidizer-ssl's macros: the README's "
        "table of macros)"
    )


def _needles(output: str, needles: tuple[str, ...], message: str) -> str | None:
    return message if any(needle in output for needle in needles) else None


def find_cause(
    output: str, project: Path | None = None, *, distribution: bool = False
) -> Cause | None:
    """Name why a build failed from pyoxidizer's and cargo's ``output``, with the fix; else None.

    ``project`` lets a missing load() path be named; ``distribution`` says --distribution was
    given (a download then means the config does not take the archive).
    """
    checks: tuple[tuple[str, Callable[[], str | None]], ...] = (
        (RUST_DOWNLOAD, lambda: _rust_download(output)),
        (DISTRIBUTION_DOWNLOAD, lambda: _distribution_download(output, distribution)),
        (
            RUST_MISSING,
            lambda: _needles(
                output,
                ("cargo executable not found", "rustc executable not found"),
                "Rust is missing: no cargo/rustc on PATH; install Rust (https://rustup.rs) and "
                "put ~/.cargo/bin on PATH",
            ),
        ),
        (
            RUST_TOO_OLD,
            lambda: _needles(
                output,
                ("PyOxidizer requires Rust",),
                "Rust is too old for pyoxidizer 0.24; update it (rustup update)",
            ),
        ),
        (
            CRATES,
            lambda: _needles(
                output,
                _CRATES_NEEDLES,
                "cargo could not fetch crates (pyembed and its dependencies) from crates.io; "
                "check network access to crates.io, or a cargo source replacement / vendored "
                "registry in CARGO_HOME/config.toml",
            ),
        ),
        (MEMORY_ONLY, lambda: _memory_only(output)),
        (MACRO_ARGUMENT, lambda: _macro_argument(output)),
        (EXTRA_ARGUMENT, lambda: _extra_argument(output)),
        (LOAD_PATH, lambda: _load_path(output, project)),
        (
            LINKER,
            lambda: _needles(
                output,
                ("linker `cc` not found", "error: linking with `cc` failed"),
                "linking the executable failed: a C compiler and linker (cc, ld, ar) are needed",
            ),
        ),
    )
    for kind, check in checks:
        message = check()
        if message is not None:
            return Cause(kind, message)
    return None


def diagnose(output: str) -> str | None:
    """Name the cause of a failed build from pyoxidizer's output, with the fix; else None."""
    cause = find_cause(output)
    return None if cause is None else cause.message


def _cargo_shim(directory: Path, shared_target_dir: Path | None) -> None:
    """Write ``directory/cargo`` wrapping the real cargo on PATH; UsageError without Rust."""
    real = shutil.which("cargo")
    if real is None or shutil.which("rustc") is None:
        raise UsageError(
            "--system-rust: invalid environment; no cargo/rustc on PATH; install Rust "
            "(https://rustup.rs) and put ~/.cargo/bin on PATH"
        )
    shared = "" if shared_target_dir is None else str(shared_target_dir.resolve())
    shim = directory / "cargo"
    shim.write_text(_CARGO_SHIM.format(real=shlex.quote(real), shared=shlex.quote(shared)))
    shim.chmod(0o755)


def run_build(
    project: Path,
    values: dict[str, str],
    targets: Sequence[str],
    extra: Sequence[str],
    *,
    system_rust: bool = False,
    cargo_target_dir: Path | None = None,
) -> int:
    """Run pyoxidizer on an already rendered project with ``values`` as --vars; its exit code.

    ``system_rust`` (or PYOXIDIZER_SYSTEM_RUST in the environment) builds with the cargo and
    rustc on PATH; ``cargo_target_dir`` then holds the compiled crates for every later build.
    pyoxidizer's output goes to stderr as it comes; on failure a last line names the cause and
    the fix when ``find_cause`` recognises it.
    """
    argv = [pyoxidizer_command(), "build", "--path", str(project.resolve())]
    for key, value in sorted(values.items()):
        argv += ["--var", key, value]
    argv += [*extra, *targets]
    env = dict(os.environ)
    system_rust = system_rust or "PYOXIDIZER_SYSTEM_RUST" in env
    with tempfile.TemporaryDirectory(prefix="pyoxidizer-ssl-") as shim_dir:
        if system_rust:
            env["PYOXIDIZER_SYSTEM_RUST"] = "1"
            _cargo_shim(Path(shim_dir), cargo_target_dir)
            env["PATH"] = shim_dir + os.pathsep + env.get("PATH", os.defpath)
        elif cargo_target_dir is not None:
            raise UsageError(
                f"--cargo-target-dir: invalid use with {str(cargo_target_dir)!r}; it needs "
                "--system-rust (pyoxidizer's own Rust ignores it)"
            )
        print("+ " + shlex.join(argv), file=sys.stderr)
        # load() paths resolve against the working directory: run from the project.
        proc = subprocess.Popen(
            argv,
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        assert proc.stdout is not None
        output: list[str] = []  # whole: the line naming a download comes long before the error
        for line in proc.stdout:
            sys.stderr.write(line)
            output.append(line)
        code = proc.wait()
    if code != 0:
        distribution = "PYOXIDIZER_SSL_DISTRIBUTION" in values
        cause = find_cause("".join(output), project, distribution=distribution)
        if cause is not None:
            print(f"pyoxidizer-ssl build: error: {cause.message}", file=sys.stderr)
    return code
