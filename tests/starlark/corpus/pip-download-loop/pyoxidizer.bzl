def make_exe():
    dist = default_python_distribution(flavor=VARS.get("FLAVOR", "standalone"))

    policy = dist.make_python_packaging_policy()
    policy.bytecode_optimize_level_two = True
    policy.file_scanner_classify_files = True
    policy.resources_location = "in-memory"
    policy.resources_location_fallback = "filesystem-relative:lib"

    python_config = dist.make_python_interpreter_config()
    python_config.oxidized_importer = True
    python_config.filesystem_importer = False
    python_config.run_module = "standin"

    exe = dist.to_python_executable(
        name="standin",
        packaging_policy=policy,
        config=python_config,
    )
    exe.windows_runtime_dlls_mode = "when-present"

    # Everything the app needs, downloaded as wheels
    pip_args = [
        "standin==1.0",
        "idna",
    ]

    # Cross builds ask pip for the target's wheels
    if BUILD_TARGET_TRIPLE == "x86_64-pc-windows-msvc":
        pip_args += ["--platform", "win_amd64"]
    elif BUILD_TARGET_TRIPLE == "x86_64-unknown-linux-musl":
        pip_args += ["--platform", "manylinux2014_x86_64"]

    for resource in exe.pip_download(pip_args):
        # Drop what the app never imports
        if resource.name == "idna.codec":
            continue

        exe.add_python_resource(resource)

    # A module made in the config: a string full of quotes, braces and brackets
    exe.add_python_resource(
        exe.make_python_module_source(
            "standin_config",
            "CONFIG = {'arguments': [], 'upload': {'mode': \"cloud\"}}",
            False
        )
    )

    return exe


def make_embedded_resources(exe):
    return exe.to_embedded_resources()


def make_install(exe):
    files = FileManifest()
    files.add_python_resource(".", exe)

    return files


register_target("exe", make_exe)
register_target("resources", make_embedded_resources, depends=["exe"], default_build_script=True)
register_target("install", make_install, depends=["exe"], default=True)

resolve_targets()

# Corpus entry "pip-download-loop", written for pyoxidizer-ssl's tests (not copied). Reproduces
# the shape of cuhsat/acquire pyoxidizer.bzl @ 63d0b9341881a456be015a8e76b90523a99781cb: the
# flavor given as an expression over VARS, both importer switches set, a pip argument list
# extended per BUILD_TARGET_TRIPLE, resources from pip_download() added one by one in a loop
# that skips some, and a module made in the config from a string with nested quotes. (The
# lib/ fallback is ours: the test distribution's extension modules are shared libraries.)
