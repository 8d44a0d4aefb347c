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
    }
print(json.dumps(out))
"""


def list_resources(
    python: str, oxidized: Path, blob: Path, home: str
) -> dict[str, dict[str, object]]:
    """{resource name: {source, bytecode, package_resources, is_package}} of a packed blob."""
    proc = subprocess.run(
        [python, "-S", "-I", "-c", _LIST, str(oxidized), str(blob)],
        env=clean_env(home),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, dict[str, object]] = json.loads(proc.stdout)
    return result
