"""A python-build-standalone style distribution assembled from the local CPython 3.10.

The real pyoxidizer 0.24 cannot download python-build-standalone here (no GitHub). It accepts any
archive in that layout: a root holding only ``python/``, a ``python/PYTHON.json`` (format "7",
every non-optional field of pyoxidizer's PythonJsonMain), a license, the stdlib and headers, and
a ``python_exe`` it runs to compile bytecode and to pip install. A copy of pyenv's launcher works
as that exe (libpython is found through its absolute RUNPATH, the stdlib relative to itself).
No objects are shipped, so an exe cannot be linked from it; embedded-resources targets build.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import zstandard

_SKIP_STDLIB = {"site-packages", "test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip"}


@dataclass(frozen=True)
class Distribution:
    """A distribution archive and what PythonDistribution() needs to use it."""

    archive: Path
    sha256: str
    version: str


_PROBE = """
import importlib.util, json, sys, sysconfig
print(json.dumps(dict(
    hexversion=sys.hexversion,
    version=list(map(str, sys.version_info)),
    magic=importlib.util.MAGIC_NUMBER.hex(),
    ext=sysconfig.get_config_var("EXT_SUFFIX"),
    prefix=sys.base_prefix,
)))
"""


def _python_json(info: dict[str, object], version: str) -> dict[str, object]:
    major_minor = ".".join(version.split(".")[:2])
    tag = "cp" + major_minor.replace(".", "")
    lib = f"install/lib/python{major_minor}"
    include = f"install/include/python{major_minor}"
    return {
        "version": "7",
        "target_triple": "x86_64-unknown-linux-gnu",
        "optimizations": "noopt",
        "python_tag": tag,
        "python_abi_tag": tag,
        "python_config_vars": {},
        "python_platform_tag": "linux-x86_64",
        "python_implementation_cache_tag": f"cpython-{major_minor.replace('.', '')}",
        "python_implementation_hex_version": info["hexversion"],
        "python_implementation_name": "cpython",
        "python_implementation_version": info["version"],
        "python_version": version,
        "python_major_minor_version": major_minor,
        "python_paths": {
            "include": include,
            "platinclude": include,
            "stdlib": lib,
            "platstdlib": lib,
            "purelib": f"{lib}/site-packages",
            "platlib": f"{lib}/site-packages",
            "scripts": "install/bin",
            "data": "install",
        },
        "python_paths_abstract": {},
        "python_exe": f"install/bin/python{major_minor}",
        "python_stdlib_test_packages": [],
        "python_suffixes": {
            "source": [".py"],
            "bytecode": [".pyc"],
            "debug_bytecode": [".pyc"],
            "optimized_bytecode": [".opt-1.pyc", ".opt-2.pyc"],
            "extension": [info["ext"], ".abi3.so", ".so"],
        },
        "python_bytecode_magic_number": info["magic"],
        "python_symbol_visibility": "global-default",
        "python_extension_module_loading": ["builtin", "shared-library"],
        "libpython_link_mode": "static",
        "crt_features": [],
        "run_tests": "build/run_tests.py",
        "build_info": {
            "core": {"objs": [], "links": [], "shared_lib": None, "static_lib": None},
            "extensions": {},
            "inittab_object": "build/lib/config.o",
            "inittab_source": "build/lib/config.c",
            "inittab_cflags": [],
            "object_file_format": "elf",
        },
        "licenses": ["Python-2.0"],
        "license_path": "LICENSE.rst",
    }


def assemble(python: str, out: Path) -> Distribution:
    """Build ``out/python-<version>.tar.zst`` from the interpreter at ``python``."""
    info = json.loads(
        subprocess.run(
            [python, "-I", "-c", _PROBE], capture_output=True, text=True, check=True
        ).stdout
    )
    version = ".".join(info["version"][:3])
    major_minor = ".".join(version.split(".")[:2])
    prefix = Path(info["prefix"])
    root = out / "tree" / "python"
    if root.parent.exists():
        shutil.rmtree(root.parent)
    install = root / "install"
    stdlib_src = prefix / "lib" / f"python{major_minor}"
    shutil.copytree(
        stdlib_src,
        install / "lib" / f"python{major_minor}",
        ignore=lambda d, names: [
            n for n in names if (Path(d) == stdlib_src and n in _SKIP_STDLIB) or n == "__pycache__"
        ],
    )
    # pip, so that exe.pip_install() works (python-build-standalone ships it too).
    site = install / "lib" / f"python{major_minor}" / "site-packages"
    site.mkdir()
    for entry in (stdlib_src / "site-packages").iterdir():
        if entry.name == "pip" or (
            entry.name.startswith("pip-") and entry.name.endswith(".dist-info")
        ):
            shutil.copytree(entry, site / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        prefix / "include" / f"python{major_minor}", install / "include" / f"python{major_minor}"
    )
    (install / "bin").mkdir(parents=True)
    shutil.copy2(prefix / "bin" / f"python{major_minor}", install / "bin" / f"python{major_minor}")
    (install / "bin" / "pip3").write_text('#!/bin/sh\nexec "$(dirname "$0")/python3" -m pip "$@"\n')
    (install / "bin" / "pip3").chmod(0o755)
    (install / "bin" / "python3").symlink_to(f"python{major_minor}")
    (root / "build" / "lib").mkdir(parents=True)
    (root / "build" / "lib" / "config.o").write_bytes(b"")
    (root / "build" / "lib" / "config.c").write_text("/* unused: no objects are linked */\n")
    (root / "licenses").mkdir()
    (root / "LICENSE.rst").write_text((stdlib_src / "LICENSE.txt").read_text())
    (root / "PYTHON.json").write_text(json.dumps(_python_json(info, version), indent=2))

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        tar.add(root, arcname="python")
    archive = out / f"cpython-{version}-x86_64-unknown-linux-gnu-local.tar.zst"
    archive.write_bytes(zstandard.ZstdCompressor(level=3).compress(raw.getvalue()))
    shutil.rmtree(root.parent)
    return Distribution(archive, hashlib.sha256(archive.read_bytes()).hexdigest(), version)
