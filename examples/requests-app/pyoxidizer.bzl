# A CLI that fetches a URL with requests, packaged with pyoxidizer-ssl.
# Build: pyoxidizer-ssl build --system-rust [--distribution ARCHIVE.tar.zst] [install|exe|resources]
# Air-gapped: add `-- --var WHEELHOUSE DIR` to pip install from local wheels only.

load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution", "pyoxidizer_ssl_executable")

def _pip_args(packages):
    wheelhouse = VARS.get("WHEELHOUSE")
    if wheelhouse:
        return ["--no-index", "--find-links", wheelhouse] + packages
    return packages

def make_exe():
    dist = pyoxidizer_ssl_distribution(vars = VARS)
    config = dist.make_python_interpreter_config()
    config.run_module = "requests_app"
    policy = dist.make_python_packaging_policy()
    # charset_normalizer's wheels hold compiled modules, which Linux cannot load from memory:
    # PyOxidizer puts what cannot stay in memory in lib/ beside the executable.
    policy.resources_location_fallback = "filesystem-relative:lib"
    exe = pyoxidizer_ssl_executable(
        dist = dist,
        name = "requests-app",
        config = config,
        packaging_policy = policy,
        vars = VARS,
        # requests requires certifi, so the pip_install below brings the app's own copy: the
        # macros add none, and the binary holds exactly one certifi, the one pip resolved for it.
        certifi = "app",
    )
    exe.add_python_resources(exe.pip_install(_pip_args(["requests"])))
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["requests_app"]))
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
