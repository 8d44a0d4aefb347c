"""The runtime's imports point one way, down the layers below, and load no earlier than needed.

Every import counts: at module level, inside functions (the deferred ones) and the type-only ones
under ``TYPE_CHECKING`` (a module typed on another's class depends on it). A module may import
only modules before it in ``ORDER``; so the graph has no cycle, and a reader can understand each
module knowing only those before it.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pyoxidizer_ssl import config, render
from support.env import CERTIFI_PARENT, clean_env, need, only_ours_dir

PACKAGE = "pyoxidizer_ssl_bootstrap"

# The layers, lowest first; within a layer, a module may import those before it in its row.
LAYERS = (
    ("settings and platform", ("_x509", "_platform", "_data")),
    # the between-runs cache (of the hashed directory, and of the hashed copy's verdict); its
    # writing half, which a hit never loads
    ("the between-runs cache", ("_cleanup", "_cache", "_cache_publish")),
    # a distro's hashed copy; its verdict kept between runs; the walk of a candidate
    # directory's entries; every source
    ("sources", ("_hashed_copy", "_verdicts", "_store_dir", "_sources")),
    ("the private directory", ("_private_dir",)),
    # what only a cache miss lays out; what contexts load; export to children
    ("decision to plan", ("_layout", "_plan", "_export")),
    ("patches", ("_grpc", "_patches")),  # handed the functions they need, typed on no State
    # the decision cache; Report; what the shim loads only when needed (multiprocessing's
    # helpers, a file run as Py_RunMain runs it; install() and every start that needs more than
    # the import hook: switches, trace, state, the fallback finder); the start-up module
    ("start-up", ("_state", "_report", "_multiprocessing", "_run", "_install", "__init__")),
)
ORDER = [module for _, modules in LAYERS for module in modules]

# Edges up the order that exist today. None since _cleanup holds objects by three methods
# instead of typing on _private_dir's PrivateDir (#18 item 2). Nothing may be added here.
KNOWN_BACK_EDGES: set[tuple[str, str]] = set()


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    """{module name: source} of the runtime as rendered (templates filled in)."""
    settings = config.validate({"trust": ["env", "system", "certifi", "truststore"]}, Path.cwd())
    rendered, _ = render.render_sources(settings)
    return {name.removesuffix(".py"): text for name, text in rendered.items()}


def imports_of(source: str) -> set[str]:
    """The package's modules that ``source`` imports anywhere (``from . import x``, ``from .x``)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module is None:
                found.update(alias.name for alias in node.names)
            elif node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 0 and (node.module or "").split(".")[0] == PACKAGE:
                found.add("__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    found.add("__init__")
    return found


def graph(sources: dict[str, str]) -> dict[str, set[str]]:
    return {name: imports_of(text) - {name} for name, text in sources.items()}


def test_imports_of_sees_deferred_and_type_only_imports() -> None:
    source = (
        "from . import _a\n"
        "TYPE_CHECKING = False\n"
        "if TYPE_CHECKING:\n"
        "    from ._b import B\n"
        "def f():\n"
        "    from . import _c, _d\n"
        "    from ._e.sub import x\n"
        "    import pyoxidizer_ssl_bootstrap\n"
    )
    assert imports_of(source) == {"_a", "_b", "_c", "_d", "_e", "__init__"}


def test_every_runtime_module_has_its_place(sources: dict[str, str]) -> None:
    assert sorted(sources) == sorted(ORDER)
    assert len(ORDER) == len(set(ORDER))


def test_imports_point_down_the_layers(sources: dict[str, str]) -> None:
    rank = {name: index for index, name in enumerate(ORDER)}
    edges = graph(sources)
    back = sorted(
        (name, target)
        for name, targets in edges.items()
        for target in targets
        if target not in rank or rank[target] >= rank[name]
    )
    assert [edge for edge in back if edge not in KNOWN_BACK_EDGES] == []
    stale = sorted(KNOWN_BACK_EDGES - set(back))
    assert stale == [], f"gone: remove {stale} from KNOWN_BACK_EDGES"


def test_no_cycle_besides_the_known_back_edges(sources: dict[str, str]) -> None:
    """Independent of ORDER: a depth-first search over the graph finds no cycle."""
    edges = graph(sources)
    for name, target in KNOWN_BACK_EDGES:
        edges[name].discard(target)
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in path, f"import cycle: {' -> '.join([*path, name])}"
        if name in done:
            return
        for target in sorted(edges.get(name, ())):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(edges):
        visit(name, [])


_LOADED = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
def ours():
    return sorted(m.split(".", 1)[1] for m in sys.modules if m.startswith(sys.argv[2] + "."))
import pyoxidizer_ssl_bootstrap
pyoxidizer_ssl_bootstrap.main()  # the shim, running -X pyoxidizer_ssl.run_command=pass
steps = {"start-up": ours()}
report = pyoxidizer_ssl_bootstrap.install()
steps["install()"] = ours()
steps["keys"] = [key for key, _ in report.steps]
import ssl
steps["import ssl"] = ours()
ssl.create_default_context()
steps["first context"] = ours()
print(json.dumps(steps))
"""


@pytest.mark.parametrize("switch", [None, "0"])
def test_modules_load_no_earlier_than_needed(render_bootstrap, home, switch):
    """The deferred design: the start-up path loads the package alone; install() the rest of
    the start (_install) and the Report; ssl's import the state and the patches; the sources,
    the private directory and the data the first context. A switch variable present, even off,
    loads _install at start (it reads the switches); the trace is the same either way."""
    boot = render_bootstrap(trust=["certifi"])  # a bundle to lay out on every host
    env = clean_env(home)
    if switch is not None:
        env["PYOXIDIZER_SSL_DEBUG"] = switch
    shim = ["-X", "pyoxidizer_ssl.run_command=pass"]  # main() runs `pass`
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            *shim,
            "-c",
            _LOADED,
            json.dumps([str(boot), CERTIFI_PARENT]),
            PACKAGE,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    steps = json.loads(proc.stdout)
    assert steps["start-up"] == ([] if switch is None else ["_install"])
    assert steps["install()"] == ["_install", "_report"]
    assert steps["keys"] == ["start.version", "start.hook"]
    at_ssl = set(steps["import ssl"]) - set(steps["install()"])
    assert at_ssl == {"_patches", "_state"}
    at_context = set(steps["first context"]) - set(steps["import ssl"])
    assert {
        "_plan",
        "_sources",
        "_private_dir",
        "_cleanup",
        "_data",
        "_x509",
        "_platform",
    } <= at_context
    assert "_export" not in steps["first context"]  # only with export_env


def test_a_cache_hit_loads_no_private_directory(render_bootstrap, home, tmp_path):
    """A second run that finds its between-runs cache entry lays nothing out: neither the
    private directory's modules nor the cleanup load (the first run, a miss, needs neither);
    nor does it parse a certificate: no _x509 (the miss cuts the bundle, so loads it)."""
    import shutil
    import uuid

    boot = render_bootstrap(trust=["certifi"])
    runtime = only_ours_dir() / uuid.uuid4().hex
    runtime.mkdir(mode=0o700)
    try:
        runs = []
        paths = json.dumps([str(boot), CERTIFI_PARENT])
        for _ in range(2):
            proc = subprocess.run(
                [sys.executable, "-I", "-c", _LOADED, paths, PACKAGE],
                env=clean_env(home, XDG_RUNTIME_DIR=str(runtime)),
                capture_output=True,
                text=True,
                check=False,
            )
            assert proc.returncode == 0, proc.stderr
            runs.append(json.loads(proc.stdout)["first context"])
        need(any(runtime.iterdir()), "the checkout lies where others can write: no cache")
        for loaded in runs:
            assert "_cache" in loaded and "_private_dir" not in loaded
            assert "_cleanup" not in loaded
        assert "_x509" in runs[0] and "_x509" not in runs[1]
        # The writing half loads to publish, not to use what was published (#20.4).
        assert "_cache_publish" in runs[0] and "_cache_publish" not in runs[1]
        # Nor the code that cuts and lays out a bundle (#20.4, fourth pass).
        assert "_layout" in runs[0] and "_layout" not in runs[1]
        assert "_store_dir" not in runs[0] and "_store_dir" not in runs[1]  # no candidate dir
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


_PATCHED_FIRST = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
import ssl  # before the shim, as a sitecustomize could
import pyoxidizer_ssl_bootstrap
pyoxidizer_ssl_bootstrap.main()  # the shim, running -X pyoxidizer_ssl.run_command=pass
loaded = "pyoxidizer_ssl_bootstrap._install" in sys.modules
keys = [key for key, _ in pyoxidizer_ssl_bootstrap.install().steps]
print(json.dumps({"loaded": loaded, "keys": keys}))
"""


def test_a_module_we_patch_imported_before_the_shim_takes_the_full_start(render_bootstrap, home):
    """main() starts alone only when nothing is left to patch: with ssl imported already, the
    start loads _install, which patches it (and the trace says so)."""
    boot = render_bootstrap(trust=["certifi"])
    shim = ["-X", "pyoxidizer_ssl.run_command=pass"]
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            *shim,
            "-c",
            _PATCHED_FIRST,
            json.dumps([str(boot), CERTIFI_PARENT]),
        ],
        env=clean_env(home),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["loaded"] is True
    assert result["keys"][:2] == ["start.version", "start.patch_imported"]
    assert "start.hook" in result["keys"]
