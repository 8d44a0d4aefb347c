"""The ``[tool.pyoxidizer-ssl]`` table and its CLI overrides, validated into one frozen Config.

Every error names where the value came from (the table or the flag), the bad value and the fix.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError as ConfigError  # raised here; adopt and doctor import it

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

TABLE = "tool.pyoxidizer-ssl"
TRUST_SOURCES = ("env", "system", "certifi", "truststore")
DEFAULT_TRUST = ("env", "system", "certifi")
DEFAULT_PYTHON_VERSION = "3.10"  # PyOxidizer 0.24's default distribution
TRUSTSTORE_MIN_PYTHON = (3, 10)
KEYS = ("trust", "extra_ca", "export_env", "python_version", "grpc")


@dataclass(frozen=True)
class Config:
    """What the rendered bootstrap is built from.

    ``extra_ca`` paths are absolute: those from pyproject.toml resolve against its directory,
    those from the CLI against the working directory.
    """

    trust: tuple[str, ...] = DEFAULT_TRUST
    extra_ca: tuple[Path, ...] = ()
    export_env: bool = False
    python_version: str = DEFAULT_PYTHON_VERSION
    grpc: bool = True
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def where(self, key: str) -> str:
        """Return where ``key`` was set, for error messages: a flag or the pyproject table."""
        return self.sources.get(key, TABLE)


def _fail(where: str, key: str, value: object, must: str) -> ConfigError:
    return ConfigError(f"{where}: invalid {key} {value!r}; must be {must}")


def _check_trust(value: object, where: str) -> tuple[str, ...]:
    allowed = ", ".join(repr(s) for s in TRUST_SOURCES)
    if not isinstance(value, (list, tuple)):
        raise _fail(where, "trust", value, f"a list of sources from {allowed}")
    if not value:
        raise _fail(where, "trust", value, f"a non-empty list of sources from {allowed}")
    seen: list[str] = []
    for entry in value:
        if entry not in TRUST_SOURCES:
            raise _fail(where, "trust entry", entry, f"one of {allowed}")
        if entry in seen:
            raise _fail(where, "trust entry", entry, "listed once; remove the duplicate")
        seen.append(entry)
    return tuple(seen)


def _check_python_version(value: object, where: str) -> str:
    must = "a CPython version like '3.10' (3.8 to 3.13)"
    if not isinstance(value, str):
        raise _fail(where, "python_version", value, must)
    parts = value.split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise _fail(where, "python_version", value, must)
    if not (3, 8) <= (int(parts[0]), int(parts[1])) <= (3, 13):
        raise _fail(where, "python_version", value, must)
    return value


def _version_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def validate(raw: dict[str, Any], base: Path, sources: dict[str, str] | None = None) -> Config:
    """Check a mapping of config keys and return the Config; ConfigError on any bad value."""
    sources = dict(sources or {})

    def where(key: str) -> str:
        return sources.get(key, TABLE)

    for key in sorted(raw):
        if key not in KEYS:
            must = "one of " + ", ".join(repr(k) for k in KEYS) + "; remove or rename it"
            raise ConfigError(f"{TABLE}: invalid key {key!r}; must be {must}")
    trust = _check_trust(raw.get("trust", list(DEFAULT_TRUST)), where("trust"))
    extra = raw.get("extra_ca", [])
    if not isinstance(extra, (list, tuple)) or not all(isinstance(p, str) and p for p in extra):
        raise _fail(where("extra_ca"), "extra_ca", extra, "a list of PEM file paths")
    export_env = raw.get("export_env", False)
    if not isinstance(export_env, bool):
        raise _fail(where("export_env"), "export_env", export_env, "true or false")
    grpc = raw.get("grpc", True)
    if not isinstance(grpc, bool):
        raise _fail(where("grpc"), "grpc", grpc, "true or false")
    version = _check_python_version(
        raw.get("python_version", DEFAULT_PYTHON_VERSION), where("python_version")
    )
    if "truststore" in trust and _version_tuple(version) < TRUSTSTORE_MIN_PYTHON:
        raise _fail(
            where("trust"),
            "trust entry",
            "truststore",
            f"used with Python >= 3.10 only, and the binary's Python is {version}; "
            "remove 'truststore' or build with a newer distribution",
        )
    paths = tuple((base / p).resolve() for p in extra)
    return Config(trust, paths, export_env, version, grpc=grpc, sources=sources)


def read_table(pyproject: Path) -> dict[str, Any]:
    """Return the ``[tool.pyoxidizer-ssl]`` table of a pyproject.toml ({} when absent)."""
    try:
        with pyproject.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject}: invalid TOML ({exc}); fix the file's syntax") from None
    table = data.get("tool", {}).get("pyoxidizer-ssl", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{TABLE}: invalid table {table!r}; must be a TOML table")
    return table


def load(
    pyproject: Path | None, overrides: dict[str, Any] | None = None, cwd: Path | None = None
) -> Config:
    """Read pyproject.toml (if any), apply CLI overrides (keyed by config key), validate.

    Override values are already typed; relative ``extra_ca`` paths from the CLI resolve against
    ``cwd`` while those from the file resolve against the file's directory.
    """
    cwd = cwd or Path.cwd()
    raw: dict[str, Any] = {}
    base = cwd
    if pyproject is not None and pyproject.exists():
        raw = read_table(pyproject)
        base = pyproject.parent
    flags = {
        "trust": "--trust",
        "extra_ca": "--extra-ca",
        "export_env": "--export-env",
        "python_version": "--python-version",
        "grpc": "--grpc",
    }
    sources = {}
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key == "extra_ca":
            value = [str((cwd / p).resolve()) for p in value]
        raw[key] = value
        sources[key] = flags[key]
    return validate(raw, base, sources)
