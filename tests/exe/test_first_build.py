"""A user's first build, failure by failure: each is provoked for real and ends with one line
that names the cause and the flag or config line that fixes it.

Downloads fail for real and hermetically: every build here goes through a proxy that refuses
connections (an HTTPS_PROXY on a loopback port bound but never listening), which pyoxidizer's
own downloads (reqwest) and cargo both honour, so no test reaches the network even on a machine
that could. Each failure is provoked for the ``exe`` and ``install`` targets and the default one
(the starter config's default is ``install``): the error chains differ between them, the line
must not.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyoxidizer_ssl import adopt, build
from support.distribution import Distribution
from support.env import clean_env
from support.exe import Rust, pyoxidizer_ssl_build

TARGETS = [pytest.param(["exe"], id="exe"), pytest.param(["install"], id="install")]
TARGETS.append(pytest.param([], id="default"))
PREFIX = "pyoxidizer-ssl build: error: "
REFUSED = "Connection refused (os error 111)"

# The quick-start config as it was before the packaging policy: every resource in memory.
MEMORY_ONLY_CONFIG = f"""\
load("{adopt.LOAD_PATH}", "{adopt.DISTRIBUTION}", "{adopt.EXECUTABLE}")

def make_exe():
    dist = pyoxidizer_ssl_distribution(vars = VARS)
    config = dist.make_python_interpreter_config()
    config.run_module = "myapp"
    exe = pyoxidizer_ssl_executable(dist = dist, name = "myapp", config = config, vars = VARS)
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["myapp"]))
    return exe

def make_install(exe):
    return exe.to_file_manifest(".")

register_target("exe", make_exe)
register_target("install", make_install, depends = ["exe"], default = True)
resolve_targets()
"""

APP = """\
import asyncio, ssl, sys
context = ssl.create_default_context()
print("myapp", sys.version_info[:2], type(asyncio.new_event_loop()).__name__, context.verify_mode)
"""


@pytest.fixture(scope="module")
def proxy() -> Iterator[str]:
    """An HTTPS_PROXY that refuses every connection: bound, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def _project(parent: Path, config: str | None = None) -> Path:
    """A new project with the package ``myapp``; ``config`` or the starter as pyoxidizer.bzl."""
    project = parent / "myproject"
    (project / "myapp").mkdir(parents=True)
    (project / "myapp" / "__init__.py").write_text("")
    (project / "myapp" / "__main__.py").write_text(APP)
    (project / "pyoxidizer.bzl").write_text(adopt.starter("myapp") if config is None else config)
    return project


def _last_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.splitlines()
    assert lines, proc
    return lines[-1]


def _failed(
    proc: subprocess.CompletedProcess[str], project: Path, kind: str, **context: bool
) -> str:
    """Assert a failed build ended with our one line, of ``kind``; return that line."""
    assert proc.returncode == 1, proc.stderr[-3000:]  # pyoxidizer's own exit code, passed on
    line = _last_line(proc)
    assert line.startswith(PREFIX), proc.stderr[-3000:]
    assert proc.stderr.count(PREFIX) == 1
    cause = build.find_cause(proc.stderr, project, **context)
    assert cause is not None and cause.kind == kind, (cause, proc.stderr[-3000:])
    assert line == PREFIX + cause.message
    return line


@pytest.mark.parametrize("targets", TARGETS)
def test_distribution_download(targets, tmp_path, home, proxy):
    """No --distribution: pyoxidizer downloads python-build-standalone, which fails."""
    project = _project(tmp_path)
    proc = pyoxidizer_ssl_build(project, clean_env(home, HTTPS_PROXY=proxy), *targets)
    line = _failed(proc, project, build.DISTRIBUTION_DOWNLOAD)
    url = "https://github.com/indygreg/python-build-standalone/releases/download/"
    assert line.startswith(f"{PREFIX}pyoxidizer could not download its Python distribution ({url}")
    assert line.endswith(
        f"-pgo-full.tar.zst: {REFUSED}); build offline with --distribution ARCHIVE, a "
        "python-build-standalone .tar.zst copied from a machine that can fetch that URL "
        "(README: where an offline archive comes from)"
    )


def test_distribution_given_to_a_config_that_does_not_take_it(
    tmp_path, home, proxy, linkable: Distribution
):
    project = _project(tmp_path)
    bzl = project / "pyoxidizer.bzl"
    bzl.write_text(
        bzl.read_text().replace(
            "pyoxidizer_ssl_distribution(vars = VARS)", "default_python_distribution()"
        )
    )
    env = clean_env(home, HTTPS_PROXY=proxy)
    proc = pyoxidizer_ssl_build(project, env, "--distribution", str(linkable.archive), "exe")
    line = _failed(proc, project, build.DISTRIBUTION_DOWNLOAD, distribution=True)
    assert line.endswith(
        "although --distribution was given: this pyoxidizer.bzl does not make its distribution "
        "with pyoxidizer_ssl_distribution(vars = VARS), which takes the archive; call it where "
        "the config calls default_python_distribution() (`pyoxidizer-ssl init` prints the edit)"
    )


@pytest.mark.parametrize("targets", TARGETS)
def test_rust_download(targets, tmp_path, home, proxy, linkable: Distribution):
    """No --system-rust: pyoxidizer downloads its own Rust 1.66, which fails."""
    project = _project(tmp_path)
    env = clean_env(home, HTTPS_PROXY=proxy)
    proc = pyoxidizer_ssl_build(project, env, "--distribution", str(linkable.archive), *targets)
    assert _failed(proc, project, build.RUST_DOWNLOAD) == (
        f"{PREFIX}pyoxidizer could not download its own Rust 1.66.0 toolchain from "
        f"static.rust-lang.org ({REFUSED}); build with --system-rust to use the cargo and rustc "
        "on PATH (install them from https://rustup.rs if there are none)"
    )


@pytest.mark.parametrize("targets", TARGETS)
def test_crates_unreachable(targets, tmp_path, home, proxy, linkable: Distribution, rust: Rust):
    """--system-rust with an empty crates cache: cargo cannot reach crates.io."""
    project = _project(tmp_path)
    cargo_home = tmp_path / "cargo-home"
    cargo_home.mkdir()
    env = rust.env(home, HTTPS_PROXY=proxy)
    env.update(CARGO_HOME=str(cargo_home), CARGO_NET_RETRY="0")
    proc = pyoxidizer_ssl_build(
        project, env, "--system-rust", "--distribution", str(linkable.archive), *targets
    )
    assert "failed to download from `https://index.crates.io/config.json`" in proc.stderr
    assert _failed(proc, project, build.CRATES) == (
        f"{PREFIX}cargo could not fetch crates (pyembed and its dependencies) from crates.io; "
        "check network access to crates.io, or a cargo source replacement / vendored registry "
        "in CARGO_HOME/config.toml"
    )


@pytest.mark.parametrize("targets", TARGETS)
def test_shared_extension_module_in_memory(targets, tmp_path, home, linkable: Distribution):
    """A distribution whose extension modules are shared libraries, a memory-only policy."""
    project = _project(tmp_path, MEMORY_ONLY_CONFIG)
    proc = pyoxidizer_ssl_build(
        project, clean_env(home), "--distribution", str(linkable.archive), *targets
    )
    assert "extension module _asyncio cannot be loaded from memory" in proc.stderr
    assert _failed(proc, project, build.MEMORY_ONLY) == (
        f"{PREFIX}extension module _asyncio is a shared library, which cannot be loaded from "
        "memory: give the executable a packaging policy with policy.resources_location_fallback = "
        '"filesystem-relative:lib" (policy = dist.make_python_packaging_policy(), then '
        'packaging_policy = policy), and install with exe.to_file_manifest(".") for the binary '
        "and its lib/"
    )


@pytest.mark.parametrize("targets", TARGETS)
def test_load_path_not_found(targets, tmp_path, home):
    """A config that loads the macros from where they are not (the render goes elsewhere)."""
    project = _project(tmp_path)
    bzl = project / "pyoxidizer.bzl"
    bzl.write_text(bzl.read_text().replace('load("build/pyoxidizer-ssl/', 'load("pyoxidizer-ssl/'))
    proc = pyoxidizer_ssl_build(project, clean_env(home), *targets)
    assert "error[CP04]: IOError: No such file or directory (os error 2)" in proc.stderr
    assert _failed(proc, project, build.LOAD_PATH) == (
        f"{PREFIX}pyoxidizer.bzl loads 'pyoxidizer-ssl/pyoxidizer.bzl', which is not there: "
        "PyOxidizer resolves load() paths against the directory it runs in (pyoxidizer-ssl build "
        'runs it in the project); load("build/pyoxidizer-ssl/pyoxidizer.bzl", ...), where '
        "pyoxidizer-ssl build renders the macros, and run a plain `pyoxidizer build` only from "
        "the project directory"
    )


def test_starter_and_quick_start_build_with_shared_extension_modules(
    tmp_path, linkable: Distribution, rust: Rust, exe_home: str
):
    """`init --write`'s config (the README's quick start) links and runs on the distribution
    whose extension modules are shared libraries: they go to lib/, beside the binary."""
    project = _project(tmp_path)
    (project / "pyoxidizer.bzl").unlink()
    init = subprocess.run(
        [sys.executable, "-m", "pyoxidizer_ssl", "init", "--write"],
        cwd=project,
        env=clean_env(exe_home),
        capture_output=True,
        text=True,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    assert (project / "pyoxidizer.bzl").read_text() == adopt.starter("myapp")
    args = ["--system-rust", "--cargo-target-dir", str(rust.target_dir)]
    proc = pyoxidizer_ssl_build(
        project, rust.env(exe_home), *args, "--distribution", str(linkable.archive)
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    tree = project / "build" / linkable.target_triple / "debug" / "install"
    assert (tree / "lib" / "_asyncio.so").is_file()
    run = subprocess.run(
        [str(tree / "myapp")], env=clean_env(exe_home), capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "myapp (3, 10) _UnixSelectorEventLoop VerifyMode.CERT_REQUIRED\n"
