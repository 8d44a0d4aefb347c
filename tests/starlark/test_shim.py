"""The startup shim keeps the app's argv, __main__, exit codes and run kind; workers get trust.

Each case builds a small project with the real pyoxidizer and runs it from memory with the real
oxidized_importer, the way pyembed runs the binary.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from support.commands import starlark_string
from support.env import clean_env
from support.layouts import require_namespaces, run_in_layout
from support.oxidized import embedded_command, executable_wrapper, pyoxidizer_build

APP = """\
import json, sys
import pyoxidizer_ssl_bootstrap
print(json.dumps({
    "argv": sys.argv,
    "name": __name__,
    "bootstrap_file": getattr(pyoxidizer_ssl_bootstrap, "__file__", None),
    "source": pyoxidizer_ssl_bootstrap.install().source,
}))
code = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 0
if len(sys.argv) > 1 and sys.argv[1] == "boom":
    raise ValueError("boom")
sys.exit(code)
"""

WORKER = """\
import sys
import urllib.request


def fetch(url):
    import pyoxidizer_ssl_bootstrap
    status = urllib.request.urlopen(url, timeout=10).status
    return status, pyoxidizer_ssl_bootstrap.install().source
"""

MP_MAIN = """\
import multiprocessing
import sys

from mpapp import work

if __name__ == "__main__":
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        status, source = pool.apply(work.fetch, (sys.argv[1],))
    print(status, source)
"""

BZL = """\
load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution", "pyoxidizer_ssl_executable", "pyoxidizer_ssl_wrap_config")

def make_exe():
    dist = pyoxidizer_ssl_distribution(vars = VARS)
    config = dist.make_python_interpreter_config()
{setup}
    pyoxidizer_ssl_wrap_config(config)
    exe = pyoxidizer_ssl_executable(dist = dist, name = "shimapp", config = config, vars = VARS)
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["shimapp", "mpapp"]))
    return exe

def make_resources(exe):
    return exe.to_embedded_resources()

register_target("exe", make_exe)
register_target("resources", make_resources, depends = ["exe"], default = True)
resolve_targets()
"""


def _project(tmp_path: Path, setup: str) -> Path:
    project = tmp_path / "proj"
    (project / "shimapp").mkdir(parents=True)
    (project / "shimapp" / "__init__.py").write_text("")
    (project / "shimapp" / "__main__.py").write_text(APP)
    (project / "mpapp").mkdir()
    (project / "mpapp" / "__init__.py").write_text("")
    (project / "mpapp" / "work.py").write_text(WORKER)
    (project / "mpapp" / "__main__.py").write_text(MP_MAIN)
    (project / "pyoxidizer.bzl").write_text(BZL.format(setup=setup))
    return project


@pytest.fixture
def build(tmp_path, distribution, pyoxidizer_home):
    def _build(setup: str):
        proc, built = pyoxidizer_build(
            _project(tmp_path, setup), distribution.archive, pyoxidizer_home
        )
        assert built is not None, proc.stderr[-4000:]
        return built

    return _build


def _run(oxidized, built, work, home, *args, stdin=""):
    python, oxidized_dir = oxidized
    argv = embedded_command(python, oxidized_dir, built, work, *args)
    return subprocess.run(
        argv,
        env=clean_env(home),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _out(proc):
    return json.loads(proc.stdout.splitlines()[0])


def test_run_module_keeps_argv_main_and_exit_code(build, oxidized, tmp_path, pyoxidizer_home):
    built = build('    config.run_module = "shimapp"')
    options = built.interpreter()["x_options"]
    assert options[0] == "pyoxidizer_ssl.run_module=shimapp"  # wrapped once
    assert len(options) == 2 and options[1].startswith(
        "pyoxidizer_ssl.fallback=exec('''import sys\n"
    )
    # pyembed's own spawn dispatch kills every worker: the shim dispatches them.
    assert built.interpreter()["multiprocessing_auto_dispatch"] == "false"
    proc = _run(oxidized, built, tmp_path / "r", pyoxidizer_home, "7", "two words")
    assert proc.returncode == 7, proc.stderr
    out = _out(proc)
    # Py_RunMain's run_module sets argv[0] to the module's origin: None for in-memory modules.
    assert out["argv"][1:] == ["7", "two words"] and out["argv"][0] is None
    assert out["name"] == "__main__"
    assert out["bootstrap_file"] is None  # loaded from memory, no __file__
    assert out["source"] is not None


def test_uncaught_exception_exits_1_with_traceback(build, oxidized, tmp_path, pyoxidizer_home):
    built = build('    config.run_module = "shimapp"')
    proc = _run(oxidized, built, tmp_path / "r", pyoxidizer_home, "boom")
    assert proc.returncode == 1
    assert proc.stderr.rstrip().endswith("ValueError: boom")


def test_run_command(build, oxidized, tmp_path, pyoxidizer_home):
    built = build(
        '    config.run_command = "import sys, json; print(json.dumps([sys.argv, __name__,'
        " 'pyoxidizer_ssl_bootstrap' in sys.modules])); sys.exit(5)\""
    )
    proc = _run(oxidized, built, tmp_path / "r", pyoxidizer_home, "a", "b")
    assert proc.returncode == 5, proc.stderr
    assert json.loads(proc.stdout) == [["-c", "a", "b"], "__main__", True]


def test_start_up_path_loads_only_the_package(build, oxidized, tmp_path, pyoxidizer_home):
    """P1: before the app's first TLS use the shim has loaded the package and nothing else
    (no ssl, no trust module, no Report); its hook is importlib's own _find_spec, not a finder
    in sys.meta_path, and the run command left no name in __main__."""
    built = build(
        '    config.run_command = "import sys; print(sorted(m for m in sys.modules'
        " if m.startswith('pyoxidizer_ssl') or m in ('ssl', '_ssl', 'certifi')),"
        " sys.modules['_frozen_importlib']._find_spec.__module__,"
        " [f for f in sys.meta_path if 'pyoxidizer' in repr(f)],"
        " sorted(n for n in globals() if not n.startswith('__')))\""
    )
    proc = _run(oxidized, built, tmp_path / "r", pyoxidizer_home)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "['pyoxidizer_ssl_bootstrap'] pyoxidizer_ssl_bootstrap [] ['sys']\n"


def test_run_filename(build, oxidized, tmp_path, pyoxidizer_home):
    script = tmp_path / "script.py"
    script.write_text("import sys; print(sys.argv[0] == __file__, __name__); sys.exit(4)\n")
    built = build(f'    config.run_filename = "{script}"')
    proc = _run(oxidized, built, tmp_path / "r", pyoxidizer_home)
    assert (proc.returncode, proc.stdout) == (4, "True __main__\n"), proc.stderr


def test_no_run_target_is_a_repl_that_reads_stdin(build, oxidized, tmp_path, pyoxidizer_home):
    built = build("    pass")
    assert built.interpreter()["inspect"] == "Some(true)"
    proc = _run(
        oxidized,
        built,
        tmp_path / "r",
        pyoxidizer_home,
        stdin="import sys; print(6 * 7, 'pyoxidizer_ssl_bootstrap' in sys.modules)\n",
    )
    assert (proc.returncode, proc.stdout) == (0, "42 True\n"), proc.stderr


def test_spawn_worker_gets_the_decision(
    build, oxidized, tmp_path, pyoxidizer_home, server, bundle_pem
):
    require_namespaces()
    built = build('    config.run_module = "mpapp"')
    python, oxidized_dir = oxidized
    argv = embedded_command(python, oxidized_dir, built, tmp_path / "r", server)
    wrapper = executable_wrapper(python, tmp_path / "r")
    proc = run_in_layout(
        "fedora43",
        argv,
        clean_env(pyoxidizer_home, EMBEDDED_RUN_EXECUTABLE=str(wrapper)),
        tmp_path / "ns",
        bundle_pem,
    )
    # The parent never made a TLS connection: the worker decided, from the distro store, itself.
    assert (proc.returncode, proc.stdout) == (0, "200 system\n"), proc.stderr[-3000:]


NASTY_COMMAND = "print('q\\'uo\"te \\\\ {{ x }} {% if %} \u00e9')\nimport sys\nsys.exit(3)"


def test_run_command_with_quotes_backslashes_newlines_and_braces(
    build, oxidized, tmp_path, pyoxidizer_home
):
    built = build(f"    config.run_command = {starlark_string(NASTY_COMMAND)}")
    assert built.interpreter()["x_options"][0] == f"pyoxidizer_ssl.run_command={NASTY_COMMAND}"
    proc = _run(oxidized, built, tmp_path / "r", pyoxidizer_home)
    assert (proc.returncode, proc.stdout) == (3, "q'uo\"te \\ {{ x }} {% if %} \u00e9\n"), (
        proc.stderr
    )
