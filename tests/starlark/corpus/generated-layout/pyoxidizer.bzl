# Corpus entry "generated-layout", written for pyoxidizer-ssl's tests (not copied).
# Reproduces the shape of GitGuardian/ggshield pyoxidizer.bzl @ c68c7e3b9b73f01c2d709ddd2a05959a84abc67a:
# PyOxidizer's generated file kept by a project: a comment block before each statement,
# comments *between* the arguments of to_python_executable(), keyword arguments without
# spaces, a trailing comma, run_command, a "prefix" fallback, the app pip-installed from the
# project, an msi target whose positional arguments are interleaved with comments, and a
# code-signing hook evaluated at load time.

# Each function below is a build target.
def make_exe():
    # The distribution our binary links and takes its standard library from.
    dist = default_python_distribution()

    # How resources are added: everything the distribution offers, no tests,
    # and whatever cannot stay in memory beside the binary.
    policy = dist.make_python_packaging_policy()
    policy.extension_module_filter = "all"
    policy.include_distribution_sources = True
    policy.include_test = False
    policy.resources_location_fallback = "filesystem-relative:prefix"

    # What the interpreter runs.
    python_config = dist.make_python_interpreter_config()
    python_config.run_command = "from standin.cli import main; main()"

    # The executable itself.
    exe = dist.to_python_executable(
        name="standin",

        # Without this argument the distribution's default policy
        # would be used (see above for ours).
        packaging_policy=policy,

        # Without this argument the default interpreter config is used.
        config=python_config,
    )

    exe.add_python_resources(exe.pip_install([CWD + "/wheels/standin-1.0-py3-none-any.whl"]))

    return exe

def make_embedded_resources(exe):
    return exe.to_embedded_resources()

def make_install(exe):
    # The install layout: the binary at the root.
    files = FileManifest()
    files.add_python_resource(".", exe)
    return files

def make_msi(exe):
    # A Windows installer from the executable.
    return exe.to_wix_msi_builder(
        # identifier
        "standin",
        # product name
        "Stand-in (app)",
        # version
        "1.0",
        # manufacturer
        "pyoxidizer-ssl tests"
    )


# Signing is opt-in: --var ENABLE_CODE_SIGNING 1.
def register_code_signers():
    if not VARS.get("ENABLE_CODE_SIGNING"):
        return


register_code_signers()

register_target("exe", make_exe)
register_target("resources", make_embedded_resources, depends=["exe"], default_build_script=True)
register_target("install", make_install, depends=["exe"], default=True)
register_target("msi_installer", make_msi, depends=["exe"])

resolve_targets()
