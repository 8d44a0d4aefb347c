# Corpus entry "static-flavor", written for pyoxidizer-ssl's tests (not copied).
# Reproduces the shape of 9001/copyparty pyoxidizer.bzl @ e430b2567a8e478a93c80809a16cb83acb9c2e3c:
# default_python_distribution() with flavor and python_version keywords, policy switches and
# commented-out ones (one with parentheses and quotes in the comment), to_python_executable()
# with config before packaging_policy, Windows-only attributes, read_package_root() of a
# multi-line package list without a trailing comma, and an install into a subdirectory.
# (The lib/ fallback is ours: the test distribution's extension modules are shared libraries.)

def make_exe():
    dist = default_python_distribution(flavor="standalone_static", python_version="3.8")
    policy = dist.make_python_packaging_policy()
    policy.allow_files = True
    policy.allow_in_memory_shared_library_loading = True
    #policy.bytecode_optimize_level_zero = True
    #policy.include_distribution_sources = False  # fails with "init_fs_encoding: (codec)" ('x')
    policy.include_distribution_resources = False
    policy.include_test = False
    policy.resources_location_fallback = "filesystem-relative:lib"
    python_config = dist.make_python_interpreter_config()
    #python_config.module_search_paths = ["$ORIGIN/lib"]

    python_config.run_module = "standin"
    exe = dist.to_python_executable(
        name="standin",
        config=python_config,
        packaging_policy=policy,
    )
    exe.windows_runtime_dlls_mode = "never"
    exe.windows_subsystem = "console"
    exe.add_python_resources(exe.read_package_root(
        path=CWD,
        packages=[
            "standin",
        ]
    ))
    return exe

def make_embedded_resources(exe):
    return exe.to_embedded_resources()

def make_install(exe):
    files = FileManifest()
    files.add_python_resource("standin", exe)
    return files

register_target("exe", make_exe)
register_target("resources", make_embedded_resources, depends=["exe"], default_build_script=True)
register_target("install", make_install, depends=["exe"], default=True)
resolve_targets()
