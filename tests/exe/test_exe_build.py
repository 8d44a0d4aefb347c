"""`pyoxidizer-ssl build` for exe targets: --system-rust, and a failure that names its cause.

The causes are matched on what pyoxidizer and cargo really print (the cases below are their
lines, copied from failed builds); the crates case is also produced for real, offline, with an
empty crates cache.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pyoxidizer_ssl.build import diagnose
from support.distribution import Distribution
from support.env import clean_env
from support.exe import Rust, copy_example, pyoxidizer_ssl_build

RUST_MISSING = "Rust is missing: no cargo/rustc on PATH"
NO_CRATES = "cargo could not fetch crates (pyembed and its dependencies) from crates.io"
NO_MANAGED_RUST = "build with --system-rust to use the cargo and rustc on PATH"


@pytest.mark.parametrize(
    ("output", "cause"),
    [
        (
            'message: "building Python executable\\n\\nCaused by:\\n    0: resolving Rust '
            "toolchain\\n    1: fetching manifest\\n    2: error sending request for url "
            '(https://static.rust-lang.org/dist/channel-rust-1.66.0.toml.sha256)"',
            NO_MANAGED_RUST,
        ),
        ("error: cargo executable not found; is Rust installed and in PATH?", RUST_MISSING),
        (
            "error: no matching package named `mimalloc` found\nlocation searched: crates.io "
            "index\nrequired by package `urllib-app v0.1.0 (/tmp/pyoxidizer0YuhJW/urllib-app)`\n"
            "help: if you need to support cargo 1.38 or earlier, see "
            "https://doc.rust-lang.org/cargo/reference/config.html",
            NO_CRATES,
        ),
        (
            "error: failed to download from `https://static.crates.io/api/v1/crates/pyo3/0.17.3/"
            "download`",
            NO_CRATES,
        ),
        ("error: PyOxidizer requires Rust 1.61.0; /usr/bin/rustc is version 1.48.0", "too old"),
        ("error: linker `cc` not found", "a C compiler and linker"),
        ("error[E0308]: mismatched types", None),
    ],
)
def test_diagnose_names_the_cause(output, cause):
    found = diagnose(output)
    assert (found is None) if cause is None else (found is not None and cause in found), found


def _urllib_app(tmp_path: Path) -> Path:
    return copy_example("urllib-app", tmp_path)


def test_system_rust_without_cargo_says_so(tmp_path, home):
    env = clean_env(home, PATH="/nonexistent")
    proc = pyoxidizer_ssl_build(_urllib_app(tmp_path), env, "--system-rust", "exe")
    assert proc.returncode == 2
    assert proc.stderr.endswith(
        "pyoxidizer-ssl build: error: --system-rust: invalid environment; no cargo/rustc on "
        "PATH; install Rust (https://rustup.rs) and put ~/.cargo/bin on PATH\n"
    ), proc.stderr


def test_cargo_target_dir_needs_system_rust(tmp_path, home):
    proc = pyoxidizer_ssl_build(
        _urllib_app(tmp_path), clean_env(home), "--cargo-target-dir", "t", "exe"
    )
    assert proc.returncode == 2
    assert (
        "pyoxidizer-ssl build: error: --cargo-target-dir: invalid use with 't'; it needs "
        "--system-rust (pyoxidizer's own Rust ignores it)\n"
    ) in proc.stderr


def test_missing_crates_are_named(tmp_path, linkable: Distribution, rust: Rust, exe_home: str):
    """A real exe build with an empty crates cache and no network for cargo."""
    empty_cargo_home = tmp_path / "cargo-home"
    empty_cargo_home.mkdir()
    env = rust.env(exe_home)
    env.update(CARGO_HOME=str(empty_cargo_home), CARGO_NET_OFFLINE="true")
    proc = pyoxidizer_ssl_build(
        _urllib_app(tmp_path),
        env,
        "--system-rust",
        "--distribution",
        str(linkable.archive),
        "exe",
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == (
        f"pyoxidizer-ssl build: error: {NO_CRATES}; check network access to crates.io, or a "
        "cargo source replacement / vendored registry in CARGO_HOME/config.toml"
    ), proc.stderr[-3000:]
