"""The corpus of public config shapes (tests/starlark/corpus): entries, projects, offline pip.

Each entry is a pyoxidizer.bzl written here in the shape of a public project's (manifest.json
names the source and commit). A project is the entry's directory plus the stand-in app
(``_app/standin``, also as a wheel in ``wheels/``), so the config's own pip_install /
pip_download / read_package_root calls find it. pip runs offline: ``PIP_NO_INDEX`` and
``PIP_FIND_LINKS`` (the stand-in wheel and the cached pure wheels of requests' dependencies)
reach the pip that pyoxidizer starts, with the config unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "starlark" / "corpus"
APP = CORPUS / "_app"
WHEEL = "standin-1.0-py3-none-any.whl"


@dataclass(frozen=True)
class Entry:
    """One corpus config: its name, public source, shape, and how its binary is built and run."""

    name: str
    source: str
    path: str
    commit: str
    shape: str
    resources: str | None
    install: str | None
    binary: str | None
    certifi_app: bool
    exe_ci: bool


def entries() -> list[Entry]:
    """Every corpus entry, in the manifest's order."""
    data = json.loads((CORPUS / "manifest.json").read_text())
    return [Entry(**entry) for entry in data["entries"]]


def standin_wheel(directory: Path) -> Path:
    """Write the stand-in app as a wheel into ``directory`` (built here: no build backend)."""
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / WHEEL
    files = {f"standin/{p.name}": p.read_bytes() for p in sorted((APP / "standin").glob("*.py"))}
    info = "standin-1.0.dist-info"
    files[f"{info}/METADATA"] = b"Metadata-Version: 2.1\nName: standin\nVersion: 1.0\n"
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: pyoxidizer-ssl-tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return wheel


def project(entry: Entry, parent: Path) -> Path:
    """A private copy of the entry's project with the stand-in app and its wheel."""
    dest = parent / entry.name
    shutil.copytree(CORPUS / entry.name, dest)
    shutil.copytree(APP / "standin", dest / "standin", ignore=shutil.ignore_patterns("__pycache__"))
    standin_wheel(dest / "wheels")
    return dest


def pip_env(project: Path, wheelhouse: Path) -> dict[str, str]:
    """Environment variables that make every pip run of the build offline."""
    return {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": f"{project / 'wheels'} {wheelhouse}",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
