"""Where the files shipped beside the Python package live, in a wheel and in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    """A wheel carries it inside the package; an editable install or checkout at the repo root."""
    inside = _PACKAGE / name
    return inside if inside.exists() else _PACKAGE.parent.parent / name


def templates_dir() -> Path:
    """The directory of Jinja2 templates of the runtime package."""
    return _shipped("templates")


def bzl_file() -> Path:
    """The public Starlark file users ``load()``."""
    return _shipped("pyoxidizer.bzl")


def package_dir() -> Path:
    """This package's directory (render copies its x509.py into the runtime)."""
    return _PACKAGE
