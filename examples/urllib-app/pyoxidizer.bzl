# A CLI that fetches a URL with urllib, packaged with pyoxidizer-ssl.
# Build: pyoxidizer-ssl build [--distribution ARCHIVE.tar.zst] [exe|resources]

load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution", "pyoxidizer_ssl_executable")

def make_exe():
    dist = pyoxidizer_ssl_distribution(vars = VARS)
    config = dist.make_python_interpreter_config()
    config.run_module = "urllib_app"
    exe = pyoxidizer_ssl_executable(dist = dist, name = "urllib-app", config = config, vars = VARS)
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["urllib_app"]))
    return exe

def make_resources(exe):
    return exe.to_embedded_resources()

register_target("exe", make_exe, default = True)
register_target("resources", make_resources, depends = ["exe"])

resolve_targets()
