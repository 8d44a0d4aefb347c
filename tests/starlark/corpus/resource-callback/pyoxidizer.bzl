# Corpus entry "resource-callback", written for pyoxidizer-ssl's tests (not copied).
# Reproduces the shape of AI-SDC/SACRO-Viewer pyoxidizer.bzl @ 27c236289c2e917d9945ebdfaf6bb14cbdd8fc86:
# a resource callback defined before make_exe() that sends every non-stdlib resource (so
# also the bootstrap and certifi the macros add) to filesystem-relative:lib and keeps the
# stdlib in memory, both importers on, the first argument of to_python_executable() directly
# followed by a comment line, a requirements file, a package list with a trailing comma, an
# install into a subdirectory and an msi with a trailing comma.


# Where each resource goes: the app and its dependencies on the filesystem.
def resource_callback(policy, resource):
    if resource.is_stdlib:
        if "encodings" in resource.name:
            resource.add_location = "filesystem-relative:lib"
        else:
            resource.add_location = "in-memory"
    else:
        resource.add_location = "filesystem-relative:lib"


def make_exe():
    dist = default_python_distribution()

    policy = dist.make_python_packaging_policy()

    policy.allow_files = True

    # In memory by default...
    policy.resources_location = "in-memory"

    # ...beside the binary when that fails.
    policy.resources_location_fallback = "filesystem-relative:lib"

    # our placement rules
    policy.register_resource_callback(resource_callback)

    python_config = dist.make_python_interpreter_config()

    # Both importers.
    python_config.oxidized_importer = True

    python_config.filesystem_importer = True

    # python_config.run_command = "import standin; standin.run()"

    python_config.run_module = "standin"

    exe = dist.to_python_executable(
        name="standin",
        # Without it, the distribution's default policy.
        packaging_policy=policy,

        # Without it, the default config.
        config=python_config,
    )

    exe.add_python_resources(exe.pip_install(["-r", "requirements.prod.txt"]))

    exe.add_python_resources(exe.read_package_root(
        path=".",
        packages=["standin",],
    ))

    return exe

def make_embedded_resources(exe):
    return exe.to_embedded_resources()

def make_install(exe):
    files = FileManifest()

    files.add_python_resource("standin", exe)

    return files

def make_msi(exe):
    return exe.to_wix_msi_builder(
        # identifier
        "standin",
        # name
        "Stand-in Viewer",
        # version
        "0.1",
        # manufacturer
        "pyoxidizer-ssl tests",
    )


register_target("exe", make_exe)
register_target("resources", make_embedded_resources, depends=["exe"], default_build_script=True)
register_target("install", make_install, depends=["exe"], default=True)
register_target("msi_installer", make_msi, depends=["exe"])

resolve_targets()
