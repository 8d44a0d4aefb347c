"""A python-build-standalone style distribution assembled from the local CPython 3.10.

The real pyoxidizer 0.24 cannot download python-build-standalone here (no GitHub). It accepts any
archive in that layout: a root holding only ``python/``, a ``python/PYTHON.json`` (format "7",
every non-optional field of pyoxidizer's PythonJsonMain), a license, the stdlib and headers, and
a ``python_exe`` it runs to compile bytecode and to pip install. A copy of pyenv's launcher works
as that exe (libpython is found through its absolute RUNPATH, the stdlib relative to itself).

Two flavours, each cached by content (``cached``):

- plain (``linkable=False``): no objects and no extension modules. Embedded-resources targets
  build from it; every module then loads from memory, which the oxidized_importer tests rely on.
- linkable: also libpython's objects, so ``pyoxidizer build exe`` links a real binary. pyenv's
  ``config-3.10-<multiarch>/libpython3.10.a`` holds the interpreter as PIC objects, including
  ``config.o`` (the stock ``_PyImport_Inittab``, which pyoxidizer skips as ``inittab_object``
  because it compiles its own from the extension list with ``inittab_cflags``). The modules that
  ``config.c`` there lists are built in (``in_core``, no objects of their own: their code is in
  the core objects); the ``.so`` files in ``lib-dynload`` become ``shared_lib`` extension
  modules, which Linux cannot load from memory: a policy must set
  ``resources_location_fallback = "filesystem-relative:lib"``.

The archive is deterministic (sorted members, zeroed owners and times), so the same interpreter
and the same builder give the same bytes and the same SHA-256.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard

_SKIP_STDLIB = {"site-packages", "test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip"}

# What pyenv's libpython needs from the system (sysconfig LIBS/SYSLIBS, plus util for openpty).
_SYSTEM_LINKS = ("crypt", "dl", "m", "pthread", "util")

# Flags for the config.c pyoxidizer derives: what CPython's own build compiles it with.
_INITTAB_CFLAGS = ["-std=c99", "-DNDEBUG", "-DPy_BUILD_CORE"]

# {"name", init_function} rows of CPython's config.c (init_function may be NULL).
_INITTAB_ROW = re.compile(r'^\s*\{"([A-Za-z0-9_.]+)",\s*([A-Za-z0-9_]+)\},', re.MULTILINE)


@dataclass(frozen=True)
class Distribution:
    """A distribution archive and what PythonDistribution() needs to use it."""

    archive: Path
    sha256: str
    version: str
    target_triple: str


_PROBE = """
import importlib.util, json, platform, sys, sysconfig
print(json.dumps(dict(
    hexversion=sys.hexversion,
    version=list(map(str, sys.version_info)),
    magic=importlib.util.MAGIC_NUMBER.hex(),
    ext=sysconfig.get_config_var("EXT_SUFFIX"),
    prefix=sys.base_prefix,
    machine=platform.machine(),
    libpl=sysconfig.get_config_var("LIBPL"),
    ldlibrary=sysconfig.get_config_var("LIBRARY"),
    platform=sysconfig.get_platform(),
)))
"""


def target_triple(machine: str | None = None) -> str:
    """The Rust target triple of a glibc Linux machine (``platform.machine()`` by default).

    PyOxidizer names its build directories after it, and a distribution must declare the one
    its objects are for.
    """
    arch = machine or platform.machine()
    if platform.system() != "Linux":
        raise ValueError(f"target_triple: invalid system {platform.system()!r}; must be Linux")
    return f"{arch}-unknown-linux-gnu"


def _probe(python: str) -> dict[str, Any]:
    out = subprocess.run(
        [python, "-I", "-c", _PROBE], capture_output=True, text=True, check=True
    ).stdout
    info: dict[str, Any] = json.loads(out)
    return info


def _python_json(
    info: dict[str, Any], version: str, triple: str, build_info: dict[str, object]
) -> dict[str, object]:
    major_minor = ".".join(version.split(".")[:2])
    tag = "cp" + major_minor.replace(".", "")
    lib = f"install/lib/python{major_minor}"
    include = f"install/include/python{major_minor}"
    return {
        "version": "7",
        "target_triple": triple,
        "optimizations": "noopt",
        "python_tag": tag,
        "python_abi_tag": tag,
        "python_config_vars": {},
        "python_platform_tag": str(info["platform"]),
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
        "build_info": build_info,
        "licenses": ["Python-2.0"],
        "license_path": "LICENSE.rst",
    }


def _extension(init_fn: str, *, in_core: bool, shared_lib: str | None) -> dict[str, object]:
    return {
        "in_core": in_core,
        "init_fn": init_fn,
        "links": [],
        "objs": [],
        "required": in_core,
        "static_lib": None,
        "shared_lib": shared_lib,
        "variant": "default",
    }


def _unused_build_info() -> dict[str, object]:
    return {
        "core": {"objs": [], "links": [], "shared_lib": None, "static_lib": None},
        "extensions": {},
        "inittab_object": "build/lib/config.o",
        "inittab_source": "build/lib/config.c",
        "inittab_cflags": [],
        "object_file_format": "elf",
    }


def _linkable_build_info(root: Path, libpl: Path, library: str, stdlib: str) -> dict[str, object]:
    """Extract libpython's objects into ``root/build/lib``; the build_info that describes them."""
    objs_dir = root / "build" / "lib"
    with tempfile.TemporaryDirectory() as scratch:
        # `ar x` from binutils, which linking the exe needs anyway.
        subprocess.run(["ar", "x", str(libpl / library)], cwd=scratch, check=True)
        names = sorted(p.name for p in Path(scratch).iterdir())
        for name in names:
            shutil.copyfile(Path(scratch) / name, objs_dir / name)
    assert "config.o" in names, f"{library} has no config.o"
    config_c = (libpl / "config.c").read_text()
    shutil.copyfile(libpl / "config.c", objs_dir / "config.c")
    extensions: dict[str, list[dict[str, object]]] = {
        name: [_extension(init_fn, in_core=True, shared_lib=None)]
        for name, init_fn in _INITTAB_ROW.findall(config_c)
    }
    dynload = root / stdlib / "lib-dynload"
    for so in sorted(dynload.glob("*.so")):
        name = so.name.split(".", 1)[0]
        extensions[name] = [
            _extension(
                f"PyInit_{name}", in_core=False, shared_lib=str(so.relative_to(root).as_posix())
            )
        ]
    return {
        "core": {
            "objs": [f"build/lib/{name}" for name in names],
            "links": [{"name": lib, "system": True} for lib in _SYSTEM_LINKS],
            "shared_lib": None,
            "static_lib": None,
        },
        "extensions": extensions,
        "inittab_object": "build/lib/config.o",
        "inittab_source": "build/lib/config.c",
        "inittab_cflags": _INITTAB_CFLAGS,
        "object_file_format": "elf",
    }


def _normalized(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _write_tar(root: Path, archive: Path) -> None:
    """tar ``root`` as ``python/`` with sorted members and no times or owners; zstd-compress."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        paths = [root, *sorted(root.rglob("*"))]
        for path in paths:
            arcname = "python/" + path.relative_to(root).as_posix() if path != root else "python"
            info = _normalized(tar.gettarinfo(str(path), arcname))
            if info.isreg():
                with path.open("rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    archive.write_bytes(zstandard.ZstdCompressor(level=3).compress(raw.getvalue()))


def assemble(python: str, out: Path, *, linkable: bool = False) -> Distribution:
    """Build ``out/cpython-<version>-<triple>-local[-linkable].tar.zst`` from ``python``."""
    info = _probe(python)
    version = ".".join(str(part) for part in info["version"][:3])
    major_minor = ".".join(version.split(".")[:2])
    triple = target_triple(str(info["machine"]))
    prefix = Path(str(info["prefix"]))
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
    if linkable:
        build_info = _linkable_build_info(
            root,
            Path(str(info["libpl"])),
            str(info["ldlibrary"]),
            f"install/lib/python{major_minor}",
        )
    else:
        (root / "build" / "lib" / "config.o").write_bytes(b"")
        (root / "build" / "lib" / "config.c").write_text("/* unused: no objects are linked */\n")
        build_info = _unused_build_info()
    (root / "licenses").mkdir()
    (root / "LICENSE.rst").write_text((stdlib_src / "LICENSE.txt").read_text())
    (root / "PYTHON.json").write_text(
        json.dumps(_python_json(info, version, triple, build_info), indent=2, sort_keys=True)
    )
    suffix = "-linkable" if linkable else ""
    archive = out / f"cpython-{version}-{triple}-local{suffix}.tar.zst"
    _write_tar(root, archive)
    shutil.rmtree(root.parent)
    return Distribution(archive, hashlib.sha256(archive.read_bytes()).hexdigest(), version, triple)


def cached(python: str, cache: Path, *, linkable: bool = False) -> Distribution:
    """``assemble()`` once per interpreter build and builder version; later calls reuse it.

    The key hashes this file, the interpreter's path and its ``sys.version`` line, so a changed
    builder or a reinstalled interpreter assembles anew.
    """
    version_line = subprocess.run(
        [python, "-I", "-c", "import sys; print(sys.version)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    key = hashlib.sha256(
        Path(__file__).read_bytes() + python.encode() + version_line.encode() + bytes([linkable])
    ).hexdigest()[:16]
    out = cache / key
    record = out / "distribution.json"
    if record.is_file():
        data = json.loads(record.read_text())
        archive = Path(data["archive"])
        if archive.is_file():
            return Distribution(archive, data["sha256"], data["version"], data["target_triple"])
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    dist = assemble(python, out, linkable=linkable)
    record.write_text(
        json.dumps(
            {
                "archive": str(dist.archive),
                "sha256": dist.sha256,
                "version": dist.version,
                "target_triple": dist.target_triple,
            }
        )
    )
    return dist
