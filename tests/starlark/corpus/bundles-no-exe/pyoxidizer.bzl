# Corpus entry "bundles-no-exe", written for pyoxidizer-ssl's tests (not copied).
# Reproduces the shape of DataDog/ddqa pyoxidizer.bzl @ 242a56a15a779ddbd7da68e0588e9f845f84963d:
# a config that only packages executables built elsewhere (a WiX bundle of two msi builders
# and a macOS application bundle of a universal binary). It creates no executable, so init
# has nothing to adopt and must say so, changing nothing.
AUTHOR = "pyoxidizer-ssl tests"
VERSION = VARS.get("version", "1.0")


def make_msi(target):
    if target == "x86_64-pc-windows-msvc":
        arch = "x64"
    else:
        arch = "x86"

    msi = WiXMSIBuilder(
        id_prefix="standin",
        product_name="Stand-in",
        product_version=VERSION,
        product_manufacturer=AUTHOR,
        arch=arch,
    )
    m = FileManifest()
    m.add_path(
        path="targets/" + target + "/standin.exe",
        strip_prefix="targets/" + target + "/",
    )
    msi.add_program_files_manifest(m)
    return msi


def make_macos_app_bundle():
    bundle = MacOsApplicationBundleBuilder("Stand-in")
    bundle.set_info_plist_required_keys(
        display_name="Stand-in",
        identifier="org.example.standin",
        version=VERSION,
        signature="stdn",
        executable="standin",
    )
    universal = AppleUniversalBinary("standin")
    for target in ["aarch64-apple-darwin", "x86_64-apple-darwin"]:
        universal.add_path("targets/" + target + "/standin")
    m = FileManifest()
    m.add_file(universal.to_file_content())
    bundle.add_macos_manifest(m)
    return bundle


def make_windows_installer():
    return make_msi("x86_64-pc-windows-msvc")


register_target("windows_installer", make_windows_installer, default=True)
register_target("macos_app_bundle", make_macos_app_bundle)

resolve_targets()
