"""Real executables, linked by ``pyoxidizer-ssl build --system-rust`` with the machine's Rust.

Every build of a test session goes through one cargo target directory (``--cargo-target-dir``:
pyoxidizer 0.24 hands cargo a fresh temporary one per build, which our cargo shim links to the
shared one), and uses the machine's CARGO_HOME (the crates.io download cache) and RUSTUP_HOME.
The first build compiles pyembed and its ~100 crates (minutes on 2 cores); every later one
recompiles only the few crates that depend on the build's own Python config, and links.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pyoxidizer_ssl.build import diagnose

from .commands import pyoxidizer_ssl
from .distribution import Distribution
from .env import clean_env, need

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def copy_example(name: str, parent: Path) -> Path:
    """Copy ``examples/name`` into ``parent`` (builds write into the project); return the copy."""
    project = parent / name
    shutil.copytree(EXAMPLES / name, project, ignore=shutil.ignore_patterns("build", "__pycache__"))
    return project


@dataclass(frozen=True)
class Rust:
    """Where the machine's Rust lives, and the target directory shared by the session's builds."""

    bin_dir: str
    cargo_home: str
    rustup_home: str
    target_dir: Path

    def env(self, home: str, **extra: str) -> dict[str, str]:
        """A clean environment in which pyoxidizer finds this Rust and the crates cache."""
        base = clean_env(home)
        return clean_env(
            home,
            PATH=self.bin_dir + os.pathsep + base["PATH"],
            CARGO_HOME=self.cargo_home,
            RUSTUP_HOME=self.rustup_home,
            # No debug info: it would be compiled for ~100 crates and linked into every ~100 MB
            # debug binary; without it builds and links are faster and binaries ~4x smaller.
            CARGO_PROFILE_DEV_DEBUG="0",
            CARGO_PROFILE_DEV_STRIP="debuginfo",
            **extra,
        )


def find_rust(target_dir: Path) -> Rust:
    """The machine's cargo and rustc (PATH, else rustup's ~/.cargo/bin); skip without them."""
    cargo_home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    search = os.pathsep.join([os.environ.get("PATH", ""), os.path.join(cargo_home, "bin")])
    cargo = shutil.which("cargo", path=search)
    rustc = shutil.which("rustc", path=search)
    need(
        cargo is not None and rustc is not None,
        "needs Rust (cargo and rustc, e.g. from rustup.rs) to link real executables",
    )
    assert cargo is not None
    return Rust(
        bin_dir=str(Path(cargo).parent),
        cargo_home=cargo_home,
        rustup_home=os.environ.get("RUSTUP_HOME", os.path.expanduser("~/.rustup")),
        target_dir=target_dir,
    )


def pyoxidizer_ssl_build(
    project: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ``pyoxidizer-ssl build --project project args`` from ``project`` with ``env``."""
    return pyoxidizer_ssl(
        "build", "--project", str(project), *args, cwd=project, env=env, timeout=1800
    )


def build_tree(
    project: Path,
    distribution: Distribution,
    rust: Rust,
    home: str,
    target: str,
    *pyoxidizer_args: str,
    release: bool = False,
) -> Path:
    """Build ``target`` of ``project`` with the real pyoxidizer; return its output directory.

    ``release`` builds as users ship (``pyoxidizer build --release``: optimised Rust, in
    ``build/<triple>/release``); the default is pyoxidizer's own, a debug build.
    A failure for want of Rust or crates (``diagnose``) skips, or fails under the CI flag; any
    other failure fails with the end of pyoxidizer's output.
    """
    args = ["--distribution", str(distribution.archive), "--system-rust"]
    args += ["--cargo-target-dir", str(rust.target_dir), target]
    extra = [*pyoxidizer_args, *(["--release"] if release else [])]
    if extra:
        args += ["--", *extra]
    proc = pyoxidizer_ssl_build(project, rust.env(home), *args)
    cause = diagnose(proc.stderr) if proc.returncode != 0 else None
    need(cause is None, f"cannot link an executable here: {cause}")
    assert proc.returncode == 0, proc.stderr[-6000:]
    profile = "release" if release else "debug"
    out = project / "build" / distribution.target_triple / profile / target
    assert out.is_dir(), proc.stderr[-3000:]
    return out
