# Corpus entry "requirements-file", written for pyoxidizer-ssl's tests (not copied).
# Reproduces the shape of SkyTemple/skytemple-randomizer pyoxidizer.bzl @ 483adfbf5fda8e32e81e9783127ded5411a9f8c9:
# the generated layout with comments between to_python_executable()'s arguments, the
# "isolated" profile set explicitly, a GUI subsystem on Windows, the app and its dependencies
# from a requirements file (which pins certifi: init must pass certifi = "app"), and an msi
# whose version argument is read from VARS with a default.

def make_exe():
    # The distribution to link.
    dist = default_python_distribution()

    # Resources stay in memory; what cannot, goes beside the binary.
    policy = dist.make_python_packaging_policy()
    # policy.extension_module_filter = "minimal"
    policy.resources_location_fallback = "filesystem-relative:prefix"

    python_config = dist.make_python_interpreter_config()

    # Not a `python`-like process.
    python_config.config_profile = "isolated"

    python_config.isolated = True

    # python_config.run_command = "<code>"
    python_config.run_module = "standin"

    exe = dist.to_python_executable(
        name="standin",

        # The policy above.
        packaging_policy=policy,

        # The interpreter config above.
        config=python_config,
    )

    # A console-less app on Windows.
    exe.windows_subsystem = "windows"

    # The app and everything it needs, as pinned by the project.
    exe.add_python_resources(exe.pip_install(["-r", "requirements.txt"]))

    return exe

def make_embedded_resources(exe):
    return exe.to_embedded_resources()

def make_install(exe):
    files = FileManifest()
    files.add_python_resource(".", exe)
    return files

def make_msi(exe):
    return exe.to_wix_msi_builder(
        # identifier
        "org.example.standin",
        # name
        "Stand-in",
        # version, from the release job
        VARS.get("APP_VERSION", "dev"),
        # manufacturer
        "pyoxidizer-ssl tests"
    )

register_target("exe", make_exe)
register_target("resources", make_embedded_resources, depends=["exe"], default_build_script=True)
register_target("install", make_install, depends=["exe"], default=True)
register_target("msi_installer", make_msi, depends=["exe"])

resolve_targets()
