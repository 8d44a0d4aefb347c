# A CLI that fetches a URL with urllib, packaged with pyoxidizer-ssl.
# Build: pyoxidizer-ssl build --system-rust [--distribution ARCHIVE.tar.zst] [install|exe|resources]

load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution", "pyoxidizer_ssl_executable")

def _policy(dist):
    policy = dist.make_python_packaging_policy()
    # A distribution whose stdlib extension modules are shared libraries (one assembled from a
    # system or pyenv CPython) cannot load them from memory: they go to lib/ beside the binary.
    # With python-build-standalone's own distributions they are built in and this changes nothing.
    policy.resources_location_fallback = "filesystem-relative:lib"
    return policy

def make_exe():
    dist = pyoxidizer_ssl_distribution(vars = VARS)
    config = dist.make_python_interpreter_config()
    config.run_module = "urllib_app"
    policy = _policy(dist)
    exe = pyoxidizer_ssl_executable(dist = dist, name = "urllib-app", packaging_policy = policy, config = config, vars = VARS)
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["urllib_app"]))
    return exe

def make_resources(exe):
    return exe.to_embedded_resources()

def make_install(exe):
    # The binary and its lib/ (what the policy could not keep in memory), ready to run.
    return exe.to_file_manifest(".")

register_target("exe", make_exe)
register_target("resources", make_resources, depends = ["exe"])
register_target("install", make_install, depends = ["exe"], default = True)

resolve_targets()
