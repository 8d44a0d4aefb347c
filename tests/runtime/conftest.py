"""The rendered runtime imported into the test process, for unit tests that need no root."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture
def runtime(render_bootstrap: Callable[..., Path]) -> Iterator[ModuleType]:
    """A fresh ``pyoxidizer_ssl_bootstrap`` (default config), gone again after the test.

    Nothing here calls install(): the test process's own ssl module is never patched; tests
    hand the patches stand-in modules instead.
    """
    path = str(render_bootstrap())
    sys.path.insert(0, path)
    try:
        yield importlib.import_module("pyoxidizer_ssl_bootstrap")
    finally:
        sys.path.remove(path)
        from pyoxidizer_ssl_bootstrap import _cleanup  # type: ignore[import-not-found]

        _cleanup.close_all()
        for name in [n for n in sys.modules if n.split(".")[0] == "pyoxidizer_ssl_bootstrap"]:
            del sys.modules[name]


class Trace(list[str]):
    """Collects what the runtime notes; ``has(text)`` is True if any step contains it."""

    def __call__(self, message: str) -> None:
        self.append(message)

    def has(self, text: str) -> bool:
        return any(text in step for step in self)


@pytest.fixture
def trace() -> Trace:
    return Trace()
