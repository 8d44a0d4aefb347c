def make_dist():
    return default_python_distribution()

def make_exe(dist):
    policy = dist.make_python_packaging_policy()
    policy.resources_location_fallback = "filesystem-relative:lib"
    config = dist.make_python_interpreter_config()
    config.run_command = 'from standin.cli import main; main()'
    exe = dist.to_python_executable(
        name="standin",
        packaging_policy=policy,
        config=config,
    )

    return exe

def make_embedded_resources(exe):
    return exe.to_embedded_resources()

def make_install(exe):
    files = FileManifest()
    exe.add_python_resources(exe.pip_install(['standin']))
    files.add_python_resource(".", exe)

    return files

register_target("dist", make_dist)
register_target("exe", make_exe, depends=["dist"])
register_target("resources", make_embedded_resources, depends=["exe"], default_build_script=True)
register_target("install", make_install, depends=["exe"], default=True)

resolve_targets()


# Corpus entry "dist-target", written for pyoxidizer-ssl's tests (not copied). Reproduces the
# shape of dbcli/mycli pyoxidizer.bzl @ 81f04a261f3850bf87f4d38b64107d640a2b56a8: no header
# (the file starts with a def), the distribution is its own target passed to make_exe(dist),
# single-quoted strings, the app's resources added in the *install* target after the
# executable exists, and constants after resolve_targets(). (The lib/ fallback is ours: the
# test distribution's extension modules are shared libraries.)
PROJECT_VERSION = "1.0"
PROJECT_COMMIT = "UNKNOWN"
