"""Mistakes users make, and the exact messages the real pyoxidizer shows them."""

from __future__ import annotations

import pytest

from support.commands import pyoxidizer, pyoxidizer_ssl
from support.env import clean_env
from support.oxidized import pyoxidizer_build


def _pyoxidizer(project, home, cwd, *args):
    return pyoxidizer(project, *args, cwd=cwd, env=clean_env(home))


def _render(project, home):
    proc = pyoxidizer_ssl(
        "render", "--out", "build/pyoxidizer-ssl", cwd=project, env=clean_env(home)
    )
    assert proc.returncode == 0, proc.stderr


def _dist_vars(distribution):
    return [
        "--var",
        "PYOXIDIZER_SSL_DISTRIBUTION",
        str(distribution.archive),
        "--var",
        "PYOXIDIZER_SSL_DISTRIBUTION_SHA256",
        distribution.sha256,
    ]


def test_macro_without_render_output(example, distribution, pyoxidizer_home, tmp_path):
    project = example("urllib-app")
    _render(project, pyoxidizer_home)
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = _pyoxidizer(
        project,
        pyoxidizer_home,
        project,
        "resources",
        *_dist_vars(distribution),
        "--var",
        "PYOXIDIZER_SSL_DIR",
        str(empty),
    )
    assert proc.returncode != 0
    assert (
        f"pyoxidizer_ssl_add_resources: invalid PYOXIDIZER_SSL_DIR '{empty}'; it holds no rendered "
        f"pyoxidizer_ssl_bootstrap; run `pyoxidizer-ssl render --out {empty}` first, or build "
        "with `pyoxidizer-ssl build`"
    ) in proc.stderr


def test_wrong_argument_types(example, distribution, pyoxidizer_home):
    project = example("urllib-app")
    bzl = project / "pyoxidizer.bzl"
    bzl.write_text(bzl.read_text().replace("dist = dist, name", 'dist = "cpython", name'))
    proc, built = pyoxidizer_build(project, distribution.archive, pyoxidizer_home)
    assert built is None
    assert (
        "pyoxidizer_ssl_executable: invalid dist of type string; must be a PythonDistribution; "
        "pass pyoxidizer_ssl_distribution(vars = VARS)"
    ) in proc.stderr
    bzl.write_text(
        bzl.read_text()
        .replace('dist = "cpython", name', "dist = dist, name")
        .replace("config = config, vars = VARS", "config = 3, vars = VARS")
    )
    proc, built = pyoxidizer_build(project, distribution.archive, pyoxidizer_home)
    assert built is None
    assert (
        "pyoxidizer_ssl_wrap_config: invalid config of type int; must be a PythonInterpreterConfig; "
        "pass dist.make_python_interpreter_config()"
    ) in proc.stderr


def test_distribution_without_sha256(example, distribution, pyoxidizer_home):
    project = example("urllib-app")
    _render(project, pyoxidizer_home)
    proc = _pyoxidizer(
        project,
        pyoxidizer_home,
        project,
        "resources",
        "--var",
        "PYOXIDIZER_SSL_DISTRIBUTION",
        str(distribution.archive),
    )
    assert proc.returncode != 0
    assert (
        "pyoxidizer_ssl_distribution: invalid PYOXIDIZER_SSL_DISTRIBUTION_SHA256 None for archive "
        f"'{distribution.archive}'; pass --var PYOXIDIZER_SSL_DISTRIBUTION_SHA256 <sha256>"
    ) in proc.stderr


def test_missing_distribution_archive(example, pyoxidizer_home, tmp_path):
    project = example("urllib-app")
    missing = tmp_path / "nope.tar.zst"
    proc, built = pyoxidizer_build(project, missing, pyoxidizer_home)
    assert built is None and proc.returncode == 2
    assert proc.stderr == (
        f"pyoxidizer-ssl build: error: --distribution: invalid archive '{missing}'; file not found; "
        "pass a python-build-standalone .tar.zst archive\n"
    )


def test_load_from_the_wrong_directory(example, distribution, pyoxidizer_home, tmp_path):
    # load() paths resolve against the working directory; this is what users then see (README).
    project = example("urllib-app")
    _render(project, pyoxidizer_home)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = _pyoxidizer(project, pyoxidizer_home, elsewhere, "resources", *_dist_vars(distribution))
    assert proc.returncode != 0
    assert "error[CP04]: IOError: No such file or directory (os error 2)" in proc.stderr
    ok = _pyoxidizer(project, pyoxidizer_home, project, "resources", *_dist_vars(distribution))
    assert ok.returncode == 0, ok.stderr[-3000:]


def test_project_without_pyoxidizer_bzl(tmp_path, distribution, pyoxidizer_home):
    proc, _ = pyoxidizer_build(tmp_path, distribution.archive, pyoxidizer_home)
    assert proc.returncode == 2
    assert "--project: invalid project" in proc.stderr and "has no pyoxidizer.bzl" in proc.stderr


def test_default_dir_with_the_package_deleted(example, distribution, pyoxidizer_home):
    project = example("urllib-app")
    _render(project, pyoxidizer_home)
    for path in sorted((project / "build/pyoxidizer-ssl/pyoxidizer_ssl_bootstrap").iterdir()):
        path.unlink()
    proc = _pyoxidizer(project, pyoxidizer_home, project, "resources", *_dist_vars(distribution))
    assert proc.returncode != 0
    assert (
        "pyoxidizer_ssl_add_resources: invalid PYOXIDIZER_SSL_DIR 'build/pyoxidizer-ssl'; it holds "
        "no rendered pyoxidizer_ssl_bootstrap"
    ) in proc.stderr


# Every macro, called as a config would; {d}, {w}, {a}, {e}: where a test puts a bad argument.
_ALL_MACROS = """\
load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution",
     "pyoxidizer_ssl_executable", "pyoxidizer_ssl_wrap_config", "pyoxidizer_ssl_add_resources")

def make_exe():
    dist = pyoxidizer_ssl_distribution(vars = VARS{d})
    config = pyoxidizer_ssl_wrap_config(dist.make_python_interpreter_config(){w})
    plain = dist.to_python_executable(name = "plain", config = config)
    pyoxidizer_ssl_add_resources(plain, VARS{a})
    return pyoxidizer_ssl_executable(dist = dist, name = "app", vars = VARS{e})

def make_resources(exe):
    return exe.to_embedded_resources()

register_target("exe", make_exe)
register_target("resources", make_resources, depends = ["exe"], default = True)
resolve_targets()
"""

_VALID = {
    "pyoxidizer_ssl_distribution": '["vars", "flavor", "build_target", "python_version"]',
    "pyoxidizer_ssl_wrap_config": '["config"]',
    "pyoxidizer_ssl_add_resources": '["exe", "vars", "dist", "packaging_policy", "certifi"]',
    "pyoxidizer_ssl_executable": (
        '["dist", "name", "vars", "config", "packaging_policy", "certifi"]'
    ),
}


def test_every_macro_called_right_builds(tmp_path, distribution, pyoxidizer_home):
    """The config the next tests spoil, as it is: it builds."""
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyoxidizer.bzl").write_text(_ALL_MACROS.format(d="", w="", a="", e=""))
    proc, built = pyoxidizer_build(project, distribution.archive, pyoxidizer_home)
    assert built is not None, proc.stderr[-3000:]


@pytest.mark.parametrize(
    ("slot", "argument", "macro", "fix"),
    [
        ("e", 'certify = "app"', "pyoxidizer_ssl_executable", "rename it to certifi"),
        ("d", 'flavour = "standalone"', "pyoxidizer_ssl_distribution", "rename it to flavor"),
        ("w", 'run_module = "app"', "pyoxidizer_ssl_wrap_config", "correct or remove it"),
        ("a", "packaging = 1", "pyoxidizer_ssl_add_resources", "rename it to packaging_policy"),
    ],
)
def test_misspelt_keyword_names_the_macro_and_the_valid_ones(
    slot, argument, macro, fix, tmp_path, distribution, pyoxidizer_home
):
    project = tmp_path / "app"
    project.mkdir()
    slots = {key: "" for key in "dwae"}
    slots[slot] = ", " + argument
    (project / "pyoxidizer.bzl").write_text(_ALL_MACROS.format(**slots))
    proc, built = pyoxidizer_build(project, distribution.archive, pyoxidizer_home)
    assert built is None and proc.returncode == 1
    bad = argument.split(" =")[0]
    message = f"{macro}: invalid keyword argument '{bad}'; must be one of {_VALID[macro]}; {fix}"
    assert f"error: fail(): {message}" in proc.stderr
    assert proc.stderr.splitlines()[-1] == f"pyoxidizer-ssl build: error: {message}"


def test_extra_positional_argument_names_the_call(tmp_path, distribution, pyoxidizer_home):
    project = tmp_path / "app"
    project.mkdir()
    bzl = project / "pyoxidizer.bzl"
    bzl.write_text(_ALL_MACROS.format(d="", w=", 3", a="", e=""))
    proc, built = pyoxidizer_build(project, distribution.archive, pyoxidizer_home)
    assert built is None and proc.returncode == 1
    assert "error[CF05]: Extraneous parameter passed to function call" in proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        f"pyoxidizer-ssl build: error: {bzl} line 6 passes an argument that the function it "
        "calls does not take (config = pyoxidizer_ssl_wrap_config(dist.make_python_interpreter_"
        "config(), 3)): a misspelt keyword or a positional argument too many; compare the call "
        "with the function's parameters (pyoxidizer-ssl's macros: the README's table of macros)"
    )
