# Corpus entry "pinned-list", written for pyoxidizer-ssl's tests (not copied).
# Reproduces the shape of cloudify-cosmo/cloudify-cli pyoxidizer.bzl @ c3b35cfee1a0b782973fd9505371e06639c1718b:
# a long pip_install() list laid out one requirement a line with the continuation aligned
# under the first, commented-out entries *inside* the list, version ranges with commas and
# brackets inside strings, a second pip_install() of a requirements file, and
# read_package_root() of a package and its subpackages from "./".

def make_exe():
    # The distribution.
    dist = default_python_distribution()

    policy = dist.make_python_packaging_policy()
    # policy.resources_location_fallback = "filesystem-relative:prefix"
    policy.resources_location_fallback = "filesystem-relative:prefix"

    python_config = dist.make_python_interpreter_config()
    # python_config.run_command = "<code>"
    python_config.run_command = "from standin.cli import main; main()"

    exe = dist.to_python_executable(
        name="standin",

        # The policy.
        packaging_policy=policy,

        # The config.
        config=python_config,
    )

    #exe.add_python_resources(exe.pip_install(["other"]))
    exe.add_python_resources(exe.pip_install(["idna>=2.5,<4",
                                              "urllib3[unknown-extra]>=1.21.1,<3",
                                              #"charset_normalizer==3.0.0",
                                              "charset-normalizer>=2,<4",
                                              # "requests[security]>=2.7.0,<3.0.0",
    ]))

    # And what the developers use.
    #exe.add_python_resources(exe.pip_install(["-r", "requirements.txt"]))
    exe.add_python_resources(exe.pip_install(["-r", "dev-requirements.txt"]))

    exe.add_python_resources(exe.read_package_root(
        path="./",
        packages=["standin",
                  "standin.cli"],
    ))

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
