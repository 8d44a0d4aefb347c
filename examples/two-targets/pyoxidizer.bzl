# Two executables from one config: only `exe` opts in to pyoxidizer-ssl; `plain` is built
# exactly as it would be without it.
# Build: pyoxidizer-ssl build --system-rust [--distribution ARCHIVE.tar.zst] [install|plain_install|exe|plain|resources|plain_resources]

load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution", "pyoxidizer_ssl_executable")

def _config(dist):
    config = dist.make_python_interpreter_config()
    config.run_module = "two_targets"
    return config

def _policy(dist):
    policy = dist.make_python_packaging_policy()
    # A distribution whose stdlib extension modules are shared libraries (one assembled from a
    # system or pyenv CPython) cannot load them from memory: they go to lib/ beside the binary.
    # With python-build-standalone's own distributions they are built in and this changes nothing.
    policy.resources_location_fallback = "filesystem-relative:lib"
    return policy

def make_exe():
    dist = pyoxidizer_ssl_distribution(vars = VARS)
    exe = pyoxidizer_ssl_executable(
        dist = dist,
        name = "two-targets",
        config = _config(dist),
        packaging_policy = _policy(dist),
        vars = VARS,
    )
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["two_targets"]))
    return exe

def make_plain():
    dist = pyoxidizer_ssl_distribution(vars = VARS)
    exe = dist.to_python_executable(
        name = "two-targets-plain",
        config = _config(dist),
        packaging_policy = _policy(dist),
    )
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["two_targets"]))
    return exe

def make_resources(exe):
    return exe.to_embedded_resources()

def make_install(exe):
    # The binary and its lib/ (what the policy could not keep in memory), ready to run.
    return exe.to_file_manifest(".")

register_target("exe", make_exe)
register_target("plain", make_plain)
register_target("resources", make_resources, depends = ["exe"])
register_target("plain_resources", make_resources, depends = ["plain"])
register_target("install", make_install, depends = ["exe"], default = True)
register_target("plain_install", make_install, depends = ["plain"])

resolve_targets()
