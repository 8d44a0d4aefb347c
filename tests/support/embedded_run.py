"""Run a PyOxidizer build's packed resources the way the binary's pyembed does.

Usage: python3.10 -S -I embedded_run.py OXIDIZED_IMPORTER_DIR RESOURCES CONFIG_JSON [ARGS...]

Stdlib plus the real oxidized_importer only. OxidizedFinder, indexing the packed-resources blob
from memory, is the first finder; path-based finders, sys.path and site-packages are gone, so
every Python module (app, bootstrap, certifi, stdlib) loads from memory with no __file__. The
only filesystem imports left are the stdlib's C extension modules (_ssl, _socket, ...), which a
real binary links in as builtins. CONFIG_JSON holds the run_command and x_options read from the
build's default_python_config.rs; they are applied as Py_RunMain applies them (argv[0] '-c',
code run in __main__; SystemExit and exceptions set the exit code).

Started with --multiprocessing-fork (multiprocessing's frozen-executable protocol, through the
EMBEDDED_RUN_EXECUTABLE wrapper that is sys.executable here as the binary is there), it sets up
the same importer and runs spawn_main instead, as pyembed's multiprocessing_auto_dispatch does.
"""

import sys

# Modules the interpreter itself loaded before this script ran; they stay.
_STARTUP = set(sys.modules)

import importlib.machinery  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402


class _ExtensionModulesOnly:
    """Stand-in for the binary's builtin C extensions: top-level .so modules of lib-dynload."""

    def __init__(self, directory):
        loader = (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES)
        self._finder = importlib.machinery.FileFinder(directory, loader)

    def find_spec(self, fullname, path=None, target=None):
        if "." in fullname:
            return None
        return self._finder.find_spec(fullname, target)


def _setup(oxidized_dir, resources):
    lib_dynload = next(p for p in sys.path if p.endswith("lib-dynload"))
    sys.path.insert(0, oxidized_dir)
    import oxidized_importer

    del sys.path[0]
    # filesystem-relative resources resolve against the binary's directory; here, a stand-in.
    origin = os.environ.get("EMBEDDED_RUN_ORIGIN")
    finder = (
        oxidized_importer.OxidizedFinder(relative_path_origin=origin)
        if origin
        else (oxidized_importer.OxidizedFinder())
    )
    with open(resources, "rb") as f:
        finder.index_bytes(f.read())
    sys.meta_path[:] = [
        finder,
        importlib.machinery.BuiltinImporter,
        importlib.machinery.FrozenImporter,
        _ExtensionModulesOnly(lib_dynload),
    ]
    sys.path[:] = []
    sys.path_hooks[:] = []
    sys.path_importer_cache.clear()
    # Forget what this script imported from the filesystem (json and friends), so the app gets
    # those modules from memory too; the interpreter's start-up modules and importlib stay.
    for name in list(sys.modules):
        if name not in _STARTUP and not name.startswith("importlib"):
            del sys.modules[name]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--multiprocessing-fork":
        oxidized_dir, resources = os.environ["EMBEDDED_RUN_SETUP"].split(os.pathsep)
        _setup(oxidized_dir, resources)
        sys.frozen = True
        from multiprocessing.spawn import spawn_main

        kwargs = dict(arg.split("=", 1) for arg in sys.argv[2:])
        spawn_main(**{k: int(v) for k, v in kwargs.items()})
        return
    oxidized_dir, resources, config_path = sys.argv[1:4]
    with open(config_path) as f:
        config = json.load(f)
    # Spawn workers re-run this script (sys.executable is the wrapper below) with this setup.
    os.environ["EMBEDDED_RUN_SETUP"] = os.pathsep.join([oxidized_dir, resources])
    _setup(oxidized_dir, resources)
    sys.frozen = True
    # Like the binary, spawn workers start this same "executable" (the wrapper script).
    sys.executable = os.environ.get("EMBEDDED_RUN_EXECUTABLE", sys.executable)
    sys._xoptions.update(dict(opt.split("=", 1) for opt in config["x_options"]))
    sys.argv[:] = ["-c", *sys.argv[4:]]
    # A fresh __main__ without __file__, as Py_RunMain gives a -c command.
    main_module = type(sys)("__main__")
    main_module.__builtins__ = __builtins__
    sys.modules["__main__"] = main_module
    if config["run_command"] is not None:
        exec(compile(config["run_command"], "<string>", "exec"), main_module.__dict__)
    elif config["run_module"] is not None:
        import runpy

        runpy._run_module_as_main(config["run_module"])


main()
