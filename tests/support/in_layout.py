"""Run inside ``unshare -m``: build a distro's CA layout on overlays, then exec the command.

Usage: in_layout.py SPEC.json   (see layouts.run_in_layout). Stdlib only; runs as root.
"""

import json
import os
import shutil
import ssl
import subprocess
import sys

# Everything a distro layout may define, removed (on the overlay) before the layout is built.
WIPE = (
    "/etc/ssl",
    "/etc/pki",
    "/etc/ca-certificates",
    "/etc/static",
    "/etc/openssl",
    "/etc/certs",
    "/var/lib/ca-certificates",
    "/var/nix",
    "/usr/local/share/certs",
    "/usr/local/etc/ssl",
)
OVERLAID = ("/etc", "/usr/local", "/var")


def sh(*argv):
    subprocess.run(argv, check=True)


def overlay(work, target):
    upper = os.path.join(work, "upper" + target)
    lower_work = os.path.join(work, "work" + target)
    os.makedirs(upper)
    os.makedirs(lower_work)
    opts = f"lowerdir={target},upperdir={upper},workdir={lower_work}"
    sh("mount", "-t", "overlay", "overlay", "-o", opts, target)


def like_python_build_standalone():
    """Point OpenSSL's compiled-in cert.pem/certs at /etc/ssl, as python-build-standalone does."""
    paths = ssl.get_default_verify_paths()
    openssl_dir = os.path.dirname(paths.openssl_cafile)
    if openssl_dir == "/etc/ssl":
        return
    with open(os.path.join(openssl_dir, "openssl.cnf"), "rb") as f:
        cnf = f.read()
    sh("mount", "-t", "tmpfs", "tmpfs", openssl_dir)
    os.symlink("/etc/ssl/cert.pem", os.path.join(openssl_dir, "cert.pem"))
    os.symlink("/etc/ssl/certs", os.path.join(openssl_dir, "certs"))
    with open(os.path.join(openssl_dir, "openssl.cnf"), "wb") as f:
        f.write(cnf)


def certs_of(bundle):
    with open(bundle, "rb") as f:
        data = f.read()
    marker = b"-----END CERTIFICATE-----"
    return [part.strip() + b"\n" + marker + b"\n" for part in data.split(marker) if part.strip()]


def build(step, bundle):
    kind, path = step[0], step[1]
    parent = os.path.dirname(path)
    if kind not in ("link", "read-only", "tmpfs") or not os.path.lexists(parent):
        os.makedirs(parent, exist_ok=True)
    if kind == "bundle":
        shutil.copyfile(bundle, path)
    elif kind == "garbage":
        with open(path, "w") as f:
            f.write("this is not a certificate bundle\n")
    elif kind == "dir":
        os.makedirs(path, exist_ok=True)
    elif kind == "link":
        os.makedirs(parent, exist_ok=True)
        os.symlink(step[2], path)
    elif kind == "tmpfs":  # a fresh, empty file system only this namespace sees, with a mode
        os.makedirs(path, exist_ok=True)
        sh("mount", "-t", "tmpfs", "-o", "mode=" + step[2], "tmpfs", path)
    elif kind == "read-only":  # the directory stays visible but nothing, root included, writes
        sh("mount", "--bind", path, path)
        sh("mount", "-o", "remount,bind,ro", path)
    elif kind in ("hashed", "pemdir"):
        os.makedirs(path, exist_ok=True)
        for index, pem in enumerate(certs_of(bundle)):
            with open(os.path.join(path, f"cert{index:03d}.pem"), "wb") as f:
                f.write(pem)
        if kind == "hashed":  # the real OpenSSL makes the XXXXXXXX.N links
            sh("openssl", "rehash", path)
    else:
        raise SystemExit(f"unknown layout step {step!r}")


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    work = spec["work"]
    sh("mount", "--make-rprivate", "/")
    like_python_build_standalone()
    # A /dev/shm of this namespace's own: what a run makes there (a private directory, the
    # between-runs cache) is neither seen by nor left to other tests and runs.
    sh("mount", "-t", "tmpfs", "-o", "mode=1777", "tmpfs", "/dev/shm")
    for target in OVERLAID:
        overlay(work, target)
    for path in WIPE:
        if os.path.islink(path) or os.path.isfile(path):
            os.unlink(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)
    bundle = os.path.join(work, "bundle.pem")
    for step in spec["steps"]:
        build(step, bundle)
    os.execvpe(spec["argv"][0], spec["argv"], spec["env"])


main()
