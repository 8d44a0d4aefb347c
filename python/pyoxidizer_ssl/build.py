"""``pyoxidizer-ssl build``: render, then run the real ``pyoxidizer build`` with our --vars.

Offline and air-gapped builds (PyOxidizer#697) pass a local python-build-standalone archive; its
SHA-256 is computed here so the config never has to hard-code one.

An ``exe`` target is linked by cargo. Without ``PYOXIDIZER_SYSTEM_RUST`` pyoxidizer 0.24 downloads
its own Rust 1.66; ``--system-rust`` uses the cargo and rustc on PATH instead, through a small
cargo shim that makes today's cargo fit pyoxidizer 0.24 (see ``_CARGO_SHIM``). When a build fails
for want of Rust or crates, the cause is named after pyoxidizer's own output (``diagnose``).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Sequence
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

# Lines of pyoxidizer's or cargo's output that name why an exe build failed, and what to do.
_CAUSES = (
    (
        ("cargo executable not found", "rustc executable not found"),
        "Rust is missing: no cargo/rustc on PATH; install Rust (https://rustup.rs) and put "
        "~/.cargo/bin on PATH",
    ),
    (
        ("PyOxidizer requires Rust",),
        "Rust is too old for pyoxidizer 0.24; update it (rustup update)",
    ),
    (
        (
            "failed to download",
            "failed to get `",
            "Unable to update registry",
            "failed to fetch",
            "failed to query replaced source registry",
            "no matching package named",
            "spurious network error",
            "failed to load source for dependency",
            "--offline was specified",  # offline with nothing in the crates cache
        ),
        "cargo could not fetch crates (pyembed and its dependencies) from crates.io; check "
        "network access to crates.io, or a cargo source replacement / vendored registry in "
        "CARGO_HOME/config.toml",
    ),
    # pyoxidizer's error chain when its own Rust 1.66 cannot be fetched.
    (
        ("0: resolving Rust toolchain",),
        "pyoxidizer could not download its own Rust toolchain; build with --system-rust "
        "(or PYOXIDIZER_SYSTEM_RUST=1) to use the cargo and rustc on PATH",
    ),
    (
        ("linker `cc` not found", "error: linking with `cc` failed"),
        "linking the executable failed: a C compiler and linker (cc, ld, ar) are needed",
    ),
)


def diagnose(output: str) -> str | None:
    """Name the cause of a failed exe build from pyoxidizer's output, with the fix; else None."""
    for needles, cause in _CAUSES:
        if any(needle in output for needle in needles):
            return cause
    return None


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
    pyoxidizer's output goes to stderr as it comes; on failure a last line names the cause when
    it is a missing Rust or crates.
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
        tail: deque[str] = deque(maxlen=400)
        for line in proc.stdout:
            sys.stderr.write(line)
            tail.append(line)
        code = proc.wait()
    if code != 0:
        cause = diagnose("".join(tail))
        if cause is not None:
            print(f"pyoxidizer-ssl build: error: {cause}", file=sys.stderr)
    return code
