# Two executables from one config: only `exe` opts in to pyoxidizer-ssl; `plain` is built
# exactly as it would be without it.
# Build: pyoxidizer-ssl build [--distribution ARCHIVE.tar.zst] [exe|plain|resources|plain_resources]

load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution", "pyoxidizer_ssl_executable")

def _config(dist):
    config = dist.make_python_interpreter_config()
    config.run_module = "two_targets"
    return config

def make_exe():
    dist = pyoxidizer_ssl_distribution(vars = VARS)
    exe = pyoxidizer_ssl_executable(dist = dist, name = "two-targets", config = _config(dist), vars = VARS)
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["two_targets"]))
    return exe

def make_plain():
    dist = pyoxidizer_ssl_distribution(vars = VARS)
    exe = dist.to_python_executable(name = "two-targets-plain", config = _config(dist))
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["two_targets"]))
    return exe

def make_resources(exe):
    return exe.to_embedded_resources()

register_target("exe", make_exe, default = True)
register_target("plain", make_plain)
register_target("resources", make_resources, depends = ["exe"])
register_target("plain_resources", make_resources, depends = ["plain"])

resolve_targets()
