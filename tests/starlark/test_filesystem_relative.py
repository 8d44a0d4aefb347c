"""Resources placed filesystem-relative:lib work as well as in-memory ones.

A resources target writes no lib/ files (only an exe build does), so the test lays lib/ out with
a FileManifest target of the same packages and compiles it, as an exe build would. The stdlib
stays in memory; the bootstrap, certifi and the app load from lib/ with __file__ set.
"""

from __future__ import annotations

import subprocess

from support.env import clean_env
from support.layouts import require_namespaces, run_in_layout
from support.oxidized import embedded_command, pyoxidizer_build

BZL = """\
load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution", "pyoxidizer_ssl_executable")

PACKAGES = ["pyoxidizer_ssl_bootstrap", "certifi", "urllib_app"]

def _to_lib(policy, resource):
    for package in PACKAGES:
        if resource.name == package or resource.name.startswith(package + "."):
            resource.add_location = "filesystem-relative:lib"

def make_exe():
    dist = pyoxidizer_ssl_distribution(vars = VARS)
    config = dist.make_python_interpreter_config()
    config.run_module = "urllib_app"
    policy = dist.make_python_packaging_policy()
    policy.resources_location_fallback = "filesystem-relative:lib"
    policy.register_resource_callback(_to_lib)
    exe = pyoxidizer_ssl_executable(dist = dist, name = "urllib-app", config = config, packaging_policy = policy, vars = VARS)
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["urllib_app"]))
    return exe

def make_resources(exe):
    return exe.to_embedded_resources()

def make_files():
    dist = pyoxidizer_ssl_distribution(vars = VARS)
    exe = dist.to_python_executable(name = "files")
    files = FileManifest()
    for root, package in [(VARS["PYOXIDIZER_SSL_DIR"], "pyoxidizer_ssl_bootstrap"), (VARS["PYOXIDIZER_SSL_CERTIFI_DIR"], "certifi"), (CWD, "urllib_app")]:
        files.add_python_resources("lib", exe.read_package_root(path = root, packages = [package]))
    return files

register_target("exe", make_exe)
register_target("resources", make_resources, depends = ["exe"], default = True)
register_target("files", make_files)
resolve_targets()
"""

_FILES = """
import sys
sys.path.insert(0, sys.argv[1])
import oxidized_importer
finder = oxidized_importer.OxidizedFinder()
with open(sys.argv[2], "rb") as f:
    finder.index_bytes(f.read())
for r in finder.indexed_resources():
    if r.name.startswith(("pyoxidizer_ssl_bootstrap", "certifi")):
        on_disk = bool(r.relative_path_module_source or r.relative_path_module_bytecode)
        in_memory = r.in_memory_source is not None or r.in_memory_bytecode is not None
        print(r.name, on_disk, in_memory)
"""


def test_bootstrap_from_lib_directory(
    example, tmp_path, distribution, pyoxidizer_home, oxidized, server, bundle_pem
):
    require_namespaces()
    project = example("urllib-app")
    (project / "pyoxidizer.bzl").write_text(BZL)
    proc, built = pyoxidizer_build(project, distribution.archive, pyoxidizer_home, "files")
    assert built is not None, proc.stderr[-4000:]
    python, oxidized_dir = oxidized
    listing = subprocess.run(
        [python, "-S", "-I", "-c", _FILES, str(oxidized_dir), str(built.resources)],
        env=clean_env(pyoxidizer_home),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert "pyoxidizer_ssl_bootstrap True False" in listing and "certifi True False" in listing
    origin = project / "build/x86_64-unknown-linux-gnu/debug/files"
    subprocess.run(
        [python, "-m", "compileall", "-q", str(origin / "lib")],
        env=clean_env(pyoxidizer_home),
        check=True,
    )
    argv = embedded_command(python, oxidized_dir, built, tmp_path / "run", server)
    env = clean_env(pyoxidizer_home, EMBEDDED_RUN_ORIGIN=str(origin), PYOXIDIZER_SSL_DEBUG="1")
    result = run_in_layout("fedora32", argv, env, tmp_path / "ns", bundle_pem)
    assert (result.returncode, result.stdout) == (0, "200\n"), result.stderr[-3000:]
    assert "decision: system (/etc/pki/tls/certs/ca-bundle.crt)" in result.stderr
