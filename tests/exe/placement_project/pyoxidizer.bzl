# One tiny app (placed/) linked once per resource placement PyOxidizer offers, each through
# pyoxidizer_ssl_executable(): `all` writes <kind>/placed-<kind> and <kind>/lib/ for each kind.
#   memory        everything in memory (the test distribution's .so modules fall back to lib/)
#   lib           everything in filesystem-relative:lib, served by oxidized_importer
#   lib_std       filesystem-relative:lib, oxidized_importer off: Python's own path importer
#   lib_none      filesystem-relative:lib, packed_resources_load_mode = "none" (set after the
#                 macros ran): Python's own path importer again
#   mixed         memory, but the bootstrap's modules and certifi's cacert.pem go to lib/ (a
#                 resource callback) while certifi's code stays in memory
# --var TEST_CERTIFI_DIR: a site directory whose certifi the macros embed (its bundle holds the
# test's CA, so a request that verifies in a layout without a store proves the bundle loaded).

load("build/pyoxidizer-ssl/pyoxidizer.bzl", "pyoxidizer_ssl_distribution", "pyoxidizer_ssl_executable")

LIB = "filesystem-relative:lib"

def _vars():
    vars = dict(VARS)
    vars["PYOXIDIZER_SSL_CERTIFI_DIR"] = VARS["TEST_CERTIFI_DIR"]
    return vars

def _to_lib_mixed(policy, resource):
    if type(resource) == "PythonModuleSource" and resource.name.startswith("pyoxidizer_ssl_bootstrap"):
        resource.add_location = LIB
    if type(resource) == "PythonPackageResource" and resource.package == "certifi":
        resource.add_location = LIB

def _exe(kind, location, own_importer, callback):
    dist = pyoxidizer_ssl_distribution(vars = VARS)
    policy = dist.make_python_packaging_policy()
    policy.resources_location = location
    if location != LIB:
        policy.resources_location_fallback = LIB
    if callback != "":
        policy.register_resource_callback(callback)
    config = dist.make_python_interpreter_config()
    config.run_module = "placed"
    if own_importer:
        config.filesystem_importer = True
        config.module_search_paths = ["$ORIGIN/lib"]
    if kind == "lib_std":
        config.oxidized_importer = False
    exe = pyoxidizer_ssl_executable(
        dist = dist,
        name = "placed-" + kind,
        config = config,
        packaging_policy = policy,
        vars = _vars(),
    )
    exe.add_python_resources(exe.read_package_root(path = CWD, packages = ["placed"]))
    if kind == "lib_none":
        exe.packed_resources_load_mode = "none"
    return exe

def make_memory():
    return _exe("memory", "in-memory", False, "")

def make_lib():
    return _exe("lib", LIB, False, "")

def make_lib_std():
    return _exe("lib_std", LIB, True, "")

def make_lib_none():
    return _exe("lib_none", LIB, True, "")

def make_mixed():
    return _exe("mixed", "in-memory", False, _to_lib_mixed)

def make_all(memory, lib, lib_std, lib_none, mixed):
    files = FileManifest()
    files.add_manifest(memory.to_file_manifest("memory"))
    files.add_manifest(lib.to_file_manifest("lib"))
    files.add_manifest(lib_std.to_file_manifest("lib_std"))
    files.add_manifest(lib_none.to_file_manifest("lib_none"))
    files.add_manifest(mixed.to_file_manifest("mixed"))
    return files

register_target("memory", make_memory)
register_target("lib", make_lib)
register_target("lib_std", make_lib_std)
register_target("lib_none", make_lib_none)
register_target("mixed", make_mixed)
register_target("all", make_all, depends = ["memory", "lib", "lib_std", "lib_none", "mixed"], default = True)

resolve_targets()
