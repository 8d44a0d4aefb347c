# The probe app, linked six ways by tests/exe: through the macros with each run target
# (run_module, run_command, run_filename, none: the REPL), once without them (plain), and once
# with the wrapped config but no bootstrap embedded (broken: the shim must still run the app).
# `all` builds every one into its own directory: <kind>/probe-<kind> and <kind>/lib/;
# `pair` only run_module and plain.
# run_filename's script is --var PROBE_SCRIPT (an absolute path, read when the binary starts).

load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution", "pyoxidizer_ssl_executable", "pyoxidizer_ssl_wrap_config")

def _policy(dist):
    policy = dist.make_python_packaging_policy()
    # The test distribution's stdlib extension modules are shared libraries: lib/ beside the exe.
    policy.resources_location_fallback = "filesystem-relative:lib"
    return policy

def _exe(kind, config, shim):
    dist = pyoxidizer_ssl_distribution(vars = VARS)
    name = "probe-" + kind
    if shim:
        exe = pyoxidizer_ssl_executable(
            dist = dist,
            name = name,
            config = config,
            packaging_policy = _policy(dist),
            vars = VARS,
        )
    else:
        exe = dist.to_python_executable(name = name, config = config, packaging_policy = _policy(dist))
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["probe"]))
    return exe

def _config():
    # The app's config, unchanged: the shim turns pyembed's multiprocessing dispatch off itself.
    return pyoxidizer_ssl_distribution(vars = VARS).make_python_interpreter_config()

def make_run_module():
    config = _config()
    config.run_module = "probe"
    return _exe("run_module", config, True)

def make_plain():
    config = _config()
    config.run_module = "probe"
    # pyembed 0.24's own spawn-worker dispatch calls spawn_main(kwargs) with the dict as its
    # first argument: every spawn worker dies with "TypeError: 'dict' object cannot be
    # interpreted as an integer". Off, the worker runs the run target and the probe dispatches
    # it itself (probe.cli.dispatch_multiprocessing), the README's workaround without the shim.
    config.multiprocessing_auto_dispatch = False
    return _exe("plain", config, False)

def make_broken():
    config = _config()
    config.run_module = "probe"
    pyoxidizer_ssl_wrap_config(config)
    return _exe("broken", config, False)  # the shim's run command, no bootstrap to import

def make_run_command():
    config = _config()
    config.run_command = "import probe.cli; probe.cli.main()"
    return _exe("run_command", config, True)

def make_run_filename():
    config = _config()
    config.run_filename = VARS.get("PROBE_SCRIPT")
    return _exe("run_filename", config, True)

def make_repl():
    return _exe("repl", _config(), True)

def make_all(run_module, plain, run_command, run_filename, repl, broken):
    files = FileManifest()
    files.add_manifest(run_module.to_file_manifest("run_module"))
    files.add_manifest(plain.to_file_manifest("plain"))
    files.add_manifest(run_command.to_file_manifest("run_command"))
    files.add_manifest(run_filename.to_file_manifest("run_filename"))
    files.add_manifest(repl.to_file_manifest("repl"))
    files.add_manifest(broken.to_file_manifest("broken"))
    return files

def make_pair(run_module, plain):
    files = FileManifest()
    files.add_manifest(run_module.to_file_manifest("run_module"))
    files.add_manifest(plain.to_file_manifest("plain"))
    return files

register_target("run_module", make_run_module)
register_target("plain", make_plain)
register_target("run_command", make_run_command)
register_target("run_filename", make_run_filename)
register_target("repl", make_repl)
register_target("broken", make_broken)
register_target(
    "all",
    make_all,
    depends = ["run_module", "plain", "run_command", "run_filename", "repl", "broken"],
    default = True,
)

# With and without the shim only, for benchmarks/bench_exe.py.
register_target("pair", make_pair, depends = ["run_module", "plain"])

# Each run target with and without the shim, for bench_exe.py --callgrind (start-up counted).
def make_plain_run_command():
    config = _config()
    config.run_command = "import probe.cli; probe.cli.main()"
    return _exe("plain_run_command", config, False)

def make_plain_run_filename():
    config = _config()
    config.run_filename = VARS.get("PROBE_SCRIPT")
    return _exe("plain_run_filename", config, False)

def make_plain_repl():
    return _exe("plain_repl", _config(), False)

def make_startup(run_module, plain, run_command, plain_run_command, run_filename, plain_run_filename, repl, plain_repl):
    files = FileManifest()
    for kind, exe in [
        ("run_module", run_module),
        ("plain", plain),
        ("run_command", run_command),
        ("plain_run_command", plain_run_command),
        ("run_filename", run_filename),
        ("plain_run_filename", plain_run_filename),
        ("repl", repl),
        ("plain_repl", plain_repl),
    ]:
        files.add_manifest(exe.to_file_manifest(kind))
    return files

register_target("plain_run_command", make_plain_run_command)
register_target("plain_run_filename", make_plain_run_filename)
register_target("plain_repl", make_plain_repl)
register_target(
    "startup",
    make_startup,
    depends = ["run_module", "plain", "run_command", "plain_run_command", "run_filename", "plain_run_filename", "repl", "plain_repl"],
)

resolve_targets()
