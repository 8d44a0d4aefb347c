# Corpus entry "custom-url-helper", written for pyoxidizer-ssl's tests (not copied).
# Reproduces the shape of jejellyroll-fr/fpdb-3 pyoxidizer.bzl @ 0bd8079775643a175360c0fcd2b77e7313f5d07a:
# the distribution made by a helper target with PythonDistribution(...) chosen per
# BUILD_TARGET_TRIPLE from a dict of [url, sha256] lists (here the test triple's entry is a
# local archive, as an offline mirror would be), fail() for an unknown triple, a classify
# policy in filesystem-relative:lib with no fallback, oxidized_importer off with several
# module_search_paths, a run_command joined from a list of strings full of quotes and
# parentheses, pip_install() resources filtered through a helper, and a glob() install.

def make_dist():
    distributions = {
        "aarch64-apple-darwin": [
            "https://example.invalid/cpython-3.10-aarch64-apple-darwin-pgo%2Blto-full.tar.zst",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ],
        "x86_64-unknown-linux-gnu": [
            VARS.get("PYOXIDIZER_SSL_DISTRIBUTION"),
            VARS.get("PYOXIDIZER_SSL_DISTRIBUTION_SHA256"),
        ],
    }
    if BUILD_TARGET_TRIPLE not in distributions:
        fail("unsupported build target: " + BUILD_TARGET_TRIPLE)

    distribution = distributions[BUILD_TARGET_TRIPLE]
    if distribution[0].startswith("https://"):
        return PythonDistribution(
            url=distribution[0],
            sha256=distribution[1],
        )
    return PythonDistribution(
        local_path=distribution[0],
        sha256=distribution[1],
    )

def has_prefix(value, prefix):
    return value[:len(prefix)] == prefix

def keep_resource(resource):
    if has_prefix(resource.name, "standin.tests."):
        return False
    return True

def make_exe(dist):
    policy = dist.make_python_packaging_policy()
    # Classified resources, all of them on the filesystem.
    policy.set_resource_handling_mode("classify")
    policy.resources_location = "filesystem-relative:lib"
    policy.resources_location_fallback = None

    config = dist.make_python_interpreter_config()
    config.filesystem_importer = True
    config.oxidized_importer = False
    config.module_search_paths = [
        "$ORIGIN/lib",
        "$ORIGIN",
        # a bundle layout keeps the payload one level up
        "$ORIGIN/../Resources/lib",
    ]
    config.run_command = "\n".join([
        "import sys",
        "sys.frozen = 'pyoxidizer'",
        "if len(sys.argv) > 2 and sys.argv[1] == '--hud':",
        "    sys.argv.pop(1)  # (the HUD mode)",
        "from standin.cli import main; main()",
    ])

    exe = dist.to_python_executable(
        name="standin",
        packaging_policy=policy,
        config=config,
    )
    if BUILD_TARGET_TRIPLE == "x86_64-pc-windows-msvc":
        exe.windows_subsystem = "windows"

    kept = []
    for resource in exe.pip_install([CWD + "/wheels/standin-1.0-py3-none-any.whl"]):
        if keep_resource(resource):
            kept.append(resource)
    exe.add_python_resources(kept)

    return exe

def make_embedded_resources(exe):
    return exe.to_embedded_resources()

def make_install(exe):
    files = FileManifest()
    files.add_python_resource(".", exe)
    files.add_manifest(glob(
        include=[
            CWD + "/assets/**/*.txt",
        ],
        exclude=[
            "**/__pycache__/**",
        ],
        strip_prefix=CWD + "/",
    ))
    return files

register_target("dist", make_dist)
register_target("exe", make_exe, depends=["dist"])
register_target("resources", make_embedded_resources, depends=["exe"], default_build_script=True)
register_target("install", make_install, depends=["exe"], default=True)
resolve_targets()
