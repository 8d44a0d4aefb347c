"""Real-world config shapes adopt pyoxidizer-ssl through `init`'s edit and keep their settings.

Each case is a small project of one shape. Its own config (as a user wrote it, with
default_python_distribution()) is built by the real pyoxidizer 0.24 twice: unchanged (the
distribution call pointed at the local archive, the only test-side edit), and adopted with the
exact text `pyoxidizer-ssl init` writes. Then, for the adopted build:
- the blob holds the bootstrap (bytecode only) and a certifi with cacert.pem;
- the run target is wrapped, every other interpreter-config field equals the unchanged build's,
  and its resources are a superset of the unchanged build's;
- run from the blob with the real oxidized_importer, HTTPS verifies in a RHEL 7 layout, and
  with no store at all the certifi fallback is the decision (with the app's own certifi, the
  test CA sits in its bundle, so the request verifies through it).

Only resources targets build here (the local archive has no objects to link an exe from): the
install / msi / bundle targets are registered in the configs but never resolved (PyOxidizer only
runs the functions of the targets asked for and their dependencies).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import certifi
import pytest

from pyoxidizer_ssl import adopt
from support.commands import pyoxidizer, pyoxidizer_ssl
from support.env import clean_env
from support.layouts import require_namespaces, run_in_layout
from support.oxidized import (
    embedded_command,
    pyoxidizer_build,
    shim_run_command,
    starlark_string,
    without_fallback,
)
from support.resources import list_resources

SHIM = shim_run_command()
# What pyoxidizer_ssl_wrap_config() sets: the run target, the REPL's inspect, and pyembed's
# multiprocessing dispatch (off: the shim dispatches helpers itself).
WRAPPED = (
    "run_command",
    "run_module",
    "run_filename",
    "x_options",
    "inspect",
    "multiprocessing_auto_dispatch",
)
VERSION = "2000.1.1"  # the app's own (pinned) certifi, told apart from the build's by this

PROBE = """\
import json, sys, urllib.error, urllib.request
out = {}
try:
    out["status"] = urllib.request.urlopen(sys.argv[1], timeout=10).status
except urllib.error.URLError as exc:
    out["status"] = getattr(exc.reason, "verify_message", None) or str(exc.reason)
import pyoxidizer_ssl_bootstrap
report = pyoxidizer_ssl_bootstrap.install()
out["source"], out["certificates"] = report.source, report.certificates
try:
    import certifi
    out["certifi"] = [certifi.__version__, getattr(certifi, "__file__", None)]
except ImportError:
    out["certifi"] = None
print(json.dumps(out))
"""

HEAD = """\
def make_resources(exe):
    return exe.to_embedded_resources()

def make_install(exe):
    files = FileManifest()
    files.add_python_resource(".", exe)
    return files

"""

TAIL = """
register_target("resources", make_resources, depends = ["exe"], default = True)
register_target("install", make_install, depends = ["exe"])
resolve_targets()
"""

# A separate distribution target, a "minimal" extension filter, windows_* settings, a policy
# changed after the exe exists, the app's resources added in a later target, msi and macOS
# bundle targets (registered, never resolved here).
OWN_DISTRIBUTION = """\
def make_dist():
    return default_python_distribution(flavor = "standalone_static", python_version = "3.10")

def make_exe(dist):
    policy = dist.make_python_packaging_policy()
    policy.extension_module_filter = "minimal"
    policy.include_test = False
    config = dist.make_python_interpreter_config()
    config.run_module = "probe"
    config.x_options = ["frozen_modules=off"]
    config.write_bytecode = False
    exe = dist.to_python_executable(
        "probe",
        policy,
        config,
    )
    policy.include_test = True
    exe.windows_subsystem = "console"
    exe.windows_runtime_dlls_mode = "never"
    return exe

def make_app(exe):
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["probe"]))
    return exe.to_embedded_resources()

def make_msi(exe):
    return exe.to_wix_msi_builder("probe", "Probe", "1.0", "pyoxidizer-ssl tests")

def make_bundle(exe):
    bundle = MacOsApplicationBundleBuilder("Probe")
    bundle.set_info_plist_required_keys("Probe", "org.example.probe", "1.0", "probe", "probe")
    bundle.add_macos_file(exe)
    return bundle

register_target("dist", make_dist)
register_target("exe", make_exe, depends = ["dist"])
register_target("resources", make_app, depends = ["exe"], default = True)
register_target("msi", make_msi, depends = ["exe"])
register_target("bundle", make_bundle, depends = ["exe"])
resolve_targets()
"""

# set_resource_handling_mode("files"): packages are read as plain files; the app is its
# run_command.
FILES_MODE = (
    HEAD
    + """\
def make_exe():
    dist = default_python_distribution()
    policy = dist.make_python_packaging_policy()
    policy.set_resource_handling_mode("files")
    config = dist.make_python_interpreter_config()
    config.run_command = {probe}
    exe = dist.to_python_executable(name = "probe", packaging_policy = policy, config = config)
    return exe

register_target("exe", make_exe)
"""
    + TAIL
)

# The app ships its own certifi (a pinned copy whose bundle holds the test CA), its code and its
# data each placed in memory or in lib/ by the app's own resource callback.
APP_CERTIFI = (
    HEAD
    + """\
def _place(policy, resource):
    if type(resource) == "PythonModuleSource" and resource.name.split(".")[0] == "certifi":
        resource.add_location = "{code}"
    if type(resource) == "PythonPackageResource" and resource.package == "certifi":
        resource.add_location = "{data}"

def make_exe():
    dist = default_python_distribution()
    policy = dist.make_python_packaging_policy()
    policy.resources_location_fallback = "filesystem-relative:lib"
    policy.register_resource_callback(_place)
    config = dist.make_python_interpreter_config()
    config.run_module = "probe"
    exe = dist.to_python_executable(name = "probe", packaging_policy = policy, config = config)
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["probe"]))
    exe.add_python_resources(exe.read_package_root(path = "{vendor}", packages = ["certifi"]))
    return exe

register_target("exe", make_exe)
"""
    + TAIL
)

# Several executables from one distribution target; only one is built here.
SEVERAL_EXECUTABLES = (
    HEAD
    + """\
def make_dist():
    return default_python_distribution()

def make_exe(dist):
    config = dist.make_python_interpreter_config()
    config.run_module = "probe"
    exe = dist.to_python_executable(name = "probe", config = config)
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["probe"]))
    return exe

def make_other(dist):
    config = dist.make_python_interpreter_config()
    config.run_command = "print('other')"
    return dist.to_python_executable(name = "other", config = config)

register_target("dist", make_dist)
register_target("exe", make_exe, depends = ["dist"])
register_target("other", make_other, depends = ["dist"])
register_target("other_resources", make_resources, depends = ["other"])
"""
    + TAIL
)

MEMORY = "in-memory"
LIB = "filesystem-relative:lib"


@dataclass(frozen=True)
class Shape:
    name: str
    config: str
    app_certifi: bool = False
    run: str = "run_module=probe"


SHAPES = [
    Shape("own-distribution", OWN_DISTRIBUTION),
    Shape("several-executables", SEVERAL_EXECUTABLES),
    Shape(
        "files-mode",
        FILES_MODE.replace("{probe}", starlark_string(PROBE)),
        run=f"run_command={PROBE}",
    ),
    *(
        Shape(
            f"app-certifi-code-{code}-data-{data}",
            APP_CERTIFI.replace("{code}", locations[0]).replace("{data}", locations[1]),
            app_certifi=True,
        )
        for code, data, locations in (
            ("memory", "memory", (MEMORY, MEMORY)),
            ("lib", "lib", (LIB, LIB)),
            ("lib", "memory", (LIB, MEMORY)),
            ("memory", "lib", (MEMORY, LIB)),
        )
    ),
]


def _vendored_certifi(root: Path, ca_pem: bytes) -> Path:
    """The app's own copy of certifi: a pinned version whose bundle also holds the test CA."""
    target = root / "certifi"
    source = Path(certifi.__file__).parent
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    init = (target / "__init__.py").read_text()
    (target / "__init__.py").write_text(
        re.sub(r'__version__ = "[^"]*"', f'__version__ = "{VERSION}"', init)
    )
    with (target / "cacert.pem").open("ab") as f:
        f.write(b"\n" + ca_pem)
    return root


def _project(tmp_path: Path, name: str, config: str) -> Path:
    project = tmp_path / name
    (project / "probe").mkdir(parents=True)
    (project / "probe" / "__init__.py").write_text("")
    (project / "probe" / "__main__.py").write_text(PROBE)
    (project / "pyoxidizer.bzl").write_text(config)
    return project


def _unchanged(config: str) -> str:
    """The user's config as it is, its distribution call pointed at the local archive."""
    local = (
        'PythonDistribution(sha256 = VARS["PYOXIDIZER_SSL_DISTRIBUTION_SHA256"], '
        'local_path = VARS["PYOXIDIZER_SSL_DISTRIBUTION"])'
    )
    return re.sub(r"default_python_distribution\([^()]*\)", local, config)


def _other_fields(config_rs: str) -> list[str]:
    return [
        line.strip()
        for line in config_rs.splitlines()
        if not line.strip().startswith(tuple(f + ":" for f in WRAPPED))
    ]


def _lay_out_lib(blob: dict[str, dict[str, object]], vendor: Path, origin: Path) -> None:
    """Write the lib/ files the blob points at, from the sources they were read from (what an
    install of the exe writes), and compile them."""
    for entry in blob.values():
        paths = [p for p in entry["lib"] if not p.endswith(".pyc")]
        paths += list(entry["lib_package_resources"].values())
        for path in paths:
            relative = Path(path).relative_to("lib")
            (origin / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(vendor / relative, origin / path)


def _compile(python: str, lib: Path, home: str) -> None:
    if lib.exists():
        subprocess.run(
            [python, "-m", "compileall", "-q", str(lib)], env=clean_env(home), check=True
        )


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_config_shape_adopts_and_keeps_its_settings(
    shape, tmp_path, distribution, pyoxidizer_home, oxidized, server, bundle_pem, ca
):
    require_namespaces()
    vendor = _vendored_certifi(tmp_path / "vendor", ca.cert_pem.bytes())
    config = shape.config.replace("{vendor}", str(vendor))
    adopted = adopt.adopt(config)
    assert ('certifi = "app"' in adopted.text) == shape.app_certifi
    assert adopted.text.count("pyoxidizer_ssl_executable(") == config.count(
        ".to_python_executable("
    )
    plain = _project(tmp_path, "plain", _unchanged(config))
    proc, before = pyoxidizer_build(plain, distribution.archive, pyoxidizer_home)
    assert before is not None, proc.stderr[-4000:]
    project = _project(tmp_path, "adopted", adopted.text)
    proc, after = pyoxidizer_build(project, distribution.archive, pyoxidizer_home)
    assert after is not None, proc.stderr[-4000:]

    # The run target is wrapped; every other field of the interpreter config is the app's own.
    assert after.interpreter()["run_command"] == SHIM
    assert after.interpreter()["run_module"] is None
    assert without_fallback(after.interpreter()["x_options"]) == [
        *before.interpreter()["x_options"],
        f"pyoxidizer_ssl.{shape.run}",
    ]
    assert _other_fields(after.config_rs) == _other_fields(before.config_rs)

    python, oxidized_dir = oxidized
    blob = list_resources(python, oxidized_dir, after.resources, pyoxidizer_home)
    assert set(list_resources(python, oxidized_dir, before.resources, pyoxidizer_home)) <= set(blob)
    bootstrap = blob["pyoxidizer_ssl_bootstrap"]
    assert bootstrap["bytecode"] and not bootstrap["source"] and not bootstrap["lib"]
    entry = blob["certifi"]
    data_memory, data_lib = entry["package_resources"], entry["lib_package_resources"]
    assert "cacert.pem" in [*data_memory, *data_lib]
    if shape.app_certifi:  # only the app's copy, where the app put it, with its source
        code, data = shape.name.split("-code-")[1].split("-data-")
        if code == "memory":
            assert entry["source"] and entry["bytecode"] and not entry["lib"]
        else:
            assert not entry["bytecode"] and "lib/certifi/__init__.py" in entry["lib"]
        assert (bool(data_memory), bool(data_lib)) == (data == "memory", data == "lib")

    origin = tmp_path / "install"
    _lay_out_lib(blob, vendor, origin)
    _compile(python, origin / "lib", pyoxidizer_home)
    results = {}
    for layout in ("rhel7", "no-store"):
        argv = embedded_command(python, oxidized_dir, after, tmp_path / layout, server)
        env = clean_env(pyoxidizer_home, EMBEDDED_RUN_ORIGIN=str(origin))
        run = run_in_layout(layout, argv, env, tmp_path / f"ns-{layout}", bundle_pem)
        assert run.returncode == 0, run.stderr[-3000:]
        results[layout] = json.loads(run.stdout.splitlines()[-1])
    assert (results["rhel7"]["status"], results["rhel7"]["source"]) == (200, "system")
    fallback = results["no-store"]
    assert fallback["source"] == "certifi"
    if shape.app_certifi:
        bundle = (vendor / "certifi" / "cacert.pem").read_bytes()
        assert fallback["status"] == 200  # the test CA is only in the app's certifi
        version, file = fallback["certifi"]
        assert version == VERSION
        assert (file is None) == (code == "memory")
    else:
        bundle = Path(certifi.where()).read_bytes()
        assert fallback["status"] == "unable to get local issuer certificate"
        assert fallback["certifi"][0] == certifi.__version__
    assert fallback["certificates"] == bundle.count(b"-----BEGIN CERTIFICATE-----")


def test_distribution_macro_checks_flavor_and_certifi(tmp_path, distribution, pyoxidizer_home):
    config = FILES_MODE.replace("{probe}", '"pass"')
    for bad, message in (
        (
            'flavor = "static"',
            "pyoxidizer_ssl_distribution: invalid flavor 'static'; must be one of "
            '["standalone", "standalone_static", "standalone_dynamic"]; pass the flavor '
            "default_python_distribution() takes",
        ),
        (
            'certifi = "mine"',
            "pyoxidizer_ssl_executable: invalid certifi 'mine'; must be one of "
            '["embed", "app"]; pass certifi = "app" when the app adds its own certifi, else '
            "leave it out",
        ),
    ):
        text = adopt.adopt(config).text
        if bad.startswith("flavor"):
            text = text.replace("(vars = VARS)", f"(vars = VARS, {bad})")
        else:
            text = text.replace(
                "config = config, vars = VARS)", f"config = config, vars = VARS, {bad})"
            )
        project = _project(tmp_path, bad.split()[0], text)
        proc, built = pyoxidizer_build(project, distribution.archive, pyoxidizer_home)
        assert built is None
        assert message in proc.stderr, proc.stderr[-3000:]


@pytest.mark.parametrize(
    "arguments", ['flavor = "standalone_static"', 'python_version = "3.7"'], ids=str
)
def test_distribution_arguments_reach_default_python_distribution(
    arguments, tmp_path, pyoxidizer_home
):
    """Without an archive the adopter's own arguments choose the download: asked for one that
    PyOxidizer 0.24 has none of (no static build for linux-gnu, no 3.7), it says so, before any
    download is tried."""
    config = FILES_MODE.replace("{probe}", '"pass"')
    text = adopt.adopt(
        config.replace("default_python_distribution()", f"default_python_distribution({arguments})")
    ).text
    assert f"pyoxidizer_ssl_distribution(vars = VARS, {arguments})" in text
    project = _project(tmp_path, "p", text)
    render = pyoxidizer_ssl("render", cwd=project, env=clean_env(pyoxidizer_home))
    assert render.returncode == 0, render.stderr
    proc = pyoxidizer(project, "resources", cwd=project, env=clean_env(pyoxidizer_home))
    assert proc.returncode != 0
    assert "could not find default Python distribution for x86_64-unknown-linux-gnu" in proc.stderr


def test_init_starter_config_builds(tmp_path, distribution, pyoxidizer_home, oxidized):
    project = tmp_path / "newproject"
    (project / "newapp").mkdir(parents=True)
    (project / "newapp" / "__init__.py").write_text("")
    (project / "newapp" / "__main__.py").write_text("print('new app')\n")
    init = pyoxidizer_ssl("init", "--write", cwd=project, env=clean_env(pyoxidizer_home))
    assert init.returncode == 0, init.stderr
    proc, built = pyoxidizer_build(project, distribution.archive, pyoxidizer_home)
    assert built is not None, proc.stderr[-4000:]
    assert without_fallback(built.interpreter()["x_options"]) == [
        "pyoxidizer_ssl.run_module=newapp"
    ]
    python, oxidized_dir = oxidized
    argv = embedded_command(python, oxidized_dir, built, tmp_path / "run")
    run = subprocess.run(argv, env=clean_env(pyoxidizer_home), capture_output=True, text=True)
    assert (run.returncode, run.stdout) == (0, "new app\n"), run.stderr
