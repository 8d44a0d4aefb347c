"""List what a packed-resources blob holds, with the real oxidized_importer (run under 3.10)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .env import clean_env

_LIST = """
import json, sys
sys.path.insert(0, sys.argv[1])
import oxidized_importer
finder = oxidized_importer.OxidizedFinder()
with open(sys.argv[2], "rb") as f:
    finder.index_bytes(f.read())
out = {}
for r in finder.indexed_resources():
    data = r.in_memory_package_resources or {}
    out[r.name] = {
        "source": r.in_memory_source is not None,
        "bytecode": r.in_memory_bytecode is not None,
        "package_resources": sorted(data),
        "is_package": r.is_package,
        "lib": [str(p) for p in (r.relative_path_module_source, r.relative_path_module_bytecode)
                if p is not None],
        "lib_package_resources": {
            k: str(v) for k, v in (r.relative_path_package_resources or {}).items()
        },
    }
print(json.dumps(out))
"""


def list_resources(
    python: str, oxidized: Path, blob: Path, home: str
) -> dict[str, dict[str, object]]:
    """{resource name: {source, bytecode, package_resources, is_package, lib,
    lib_package_resources}} of a packed blob: what is in memory, and the lib/ paths (relative to
    the binary) of what is on disk."""
    proc = subprocess.run(
        [python, "-S", "-I", "-c", _LIST, str(oxidized), str(blob)],
        env=clean_env(home),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, dict[str, object]] = json.loads(proc.stdout)
    return result
