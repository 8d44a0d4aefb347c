def make_exe():
    dist = default_python_distribution()
    policy = dist.make_python_packaging_policy()
    policy.resources_location_fallback = "filesystem-relative:lib"
    python_config = dist.make_python_interpreter_config()
    # Enable loading the user's own plugins
    python_config.filesystem_importer = True
    python_config.run_module = "standin"
    exe = dist.to_python_executable(
        name="standin",
        packaging_policy=policy,
        config=python_config,
    )
    exe.add_python_resources(exe.pip_install(["idna"]))
    # PACKAGE='standin[extra]' picks another build of the app
    app_package = VARS.get("PACKAGE", "standin")
    exe.add_python_resources(
        exe.pip_install([app_package],
        extra_envs={
            "PIP_PREFER_BINARY": "1"
        })
    )
    return exe
def make_embedded_resources(exe):
    return exe.to_embedded_resources()
def make_install(exe):
    files = FileManifest()
    files.add_python_resource(".", exe)
    return files
def make_msi(exe):
    return exe.to_wix_msi_builder(
        "standin",
        "Stand-in: tasks (with \"quotes\")",
        "1.0",
        "Ñandú Tests"
    )
def register_code_signers():
    if not VARS.get("ENABLE_CODE_SIGNING"):
        return
register_code_signers()
register_target("exe", make_exe)
register_target("resources", make_embedded_resources, depends=["exe"], default_build_script=True)
register_target("install", make_install, depends=["exe"], default=True)
register_target("msi_installer", make_msi, depends=["exe"])
resolve_targets()
# Corpus entry "nested-call-args", written for pyoxidizer-ssl's tests (not copied). Reproduces
# the shape of taskfiles/taskfiles pyoxidizer.bzl @ 22700ac7ba44ca6fea44f90b48b23bfe996af70f: the
# generated file with its comments stripped and no blank lines, a nested multi-line call
# (pip_install with an extra_envs dict) inside add_python_resources(), non-ASCII and escaped
# quotes in an msi argument. (The lib/ fallback is ours: the test distribution's extension
# modules are shared libraries.)
