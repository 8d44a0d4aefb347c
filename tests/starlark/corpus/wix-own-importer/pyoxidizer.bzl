# Corpus entry "wix-own-importer", written for pyoxidizer-ssl's tests (not copied).

# Reproduces the shape of pymedphys/pymedphys pyoxidizer.bzl @ 02dd75854427d52bc7fde52dc17c5c24f4fdbdcc:

# a licence-style header of comment paragraphs separated by blank lines, everything in
# filesystem-relative:lib served by Python's own importer (oxidized_importer = False,
# filesystem_importer, module_search_paths), spaced keyword arguments with a trailing comma,
# pip_install() with pip options and requirements files, an install target that also
# installs, and a WiX bundle (positional arguments with comments, a trailing comma) as the
# default target.


def make_exe():
    dist = default_python_distribution(python_version = "3.10")

    policy = dist.make_python_packaging_policy()
    policy.resources_location = "filesystem-relative:lib"

    python_config = dist.make_python_interpreter_config()
    python_config.module_search_paths = ["$ORIGIN/lib"]
    python_config.run_module = "standin"

    python_config.filesystem_importer = True
    python_config.oxidized_importer = False
    python_config.sys_frozen = True

    exe = dist.to_python_executable(
        name = "standin",
        packaging_policy = policy,
        config = python_config,
    )
    exe.windows_runtime_dlls_mode = "always"
    exe.windows_subsystem = "console"

    exe.add_python_resources(exe.pip_install(["--no-deps", "-r", "requirements-cli.txt"]))
    exe.add_python_resources(exe.pip_install(["--no-deps", "-r", "requirements-extra.txt"]))

    return exe

def make_embedded_resources(exe):
    return exe.to_embedded_resources()

def make_install(exe):
    # The binary and its lib/.
    files = FileManifest()

    files.add_python_resource(".", exe)

    files.install("dist", replace = True)

    return files

def make_exe_installer(exe):
    # A WiX bundle around the executable.

    wix_installer = exe.to_wix_bundle_builder(
        # identifier
        "standin",
        # name
        "Stand-in",
        # NOTE: WiX wants a plain version
        "1.0.0",
        # manufacturer
        "pyoxidizer-ssl tests",
    )
    wix_installer.install_files_root_directory_id = 'LocalAppDataFolder'

    return wix_installer

register_target("exe", make_exe)
register_target("resources", make_embedded_resources, depends = ["exe"], default_build_script = True)
register_target("install", make_install, depends = ["exe"])
register_target("exe_installer", make_exe_installer, depends = ["exe"], default = True)

resolve_targets()
