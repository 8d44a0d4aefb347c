"""The rendered runtime imported into the test process, for unit tests that need no root."""

from __future__ import annotations

import importlib
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from support.env import need, only_ours_dir


@pytest.fixture
def runtime(
    render_bootstrap: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    """A fresh ``pyoxidizer_ssl_bootstrap`` (default config), gone again after the test.

    Nothing here calls install(): the test process's own ssl module is never patched; tests
    hand the patches stand-in modules instead. XDG_CACHE_HOME names nothing: a plan built here
    uses no between-runs cache (neither this user's ~/.cache nor the host's /dev/shm) unless
    the test sets one up (test_unit_cache.py).
    """
    monkeypatch.setenv("XDG_CACHE_HOME", "/nonexistent/pyoxidizer-ssl-tests")
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


@pytest.fixture
def safe_dir() -> Iterator[Path]:
    """A fresh directory only we (and root) can write, up to / (``support.env.only_ours_dir``):
    where the cache's and the verdicts' unit tests put a cache directory."""
    path = only_ours_dir() / uuid.uuid4().hex
    path.mkdir(mode=0o700)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def cache_in(runtime: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], ModuleType]:
    """``use(directory)``: the runtime's ``_cache`` with its cache directory under ``directory``,
    given as XDG_RUNTIME_DIR (no HOME, no XDG_CACHE_HOME), and no /dev/shm (this process's own:
    tests that want one give it a directory of theirs); skips where ``directory`` lies where
    others can write (``need``)."""

    def use(directory: Path) -> ModuleType:
        from pyoxidizer_ssl_bootstrap import _cache, _platform  # type: ignore[import-not-found]

        why = _platform.chain_open_to_others(str(directory), _platform.EXPORTED)
        need(why is None, f"the checkout lies where others can write: {why}")
        for name in ("XDG_CACHE_HOME", "HOME"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(directory))
        monkeypatch.setattr(_cache, "SHM", None)
        return _cache  # type: ignore[no-any-return]

    return use


class Trace(list[str]):
    """Collects what the runtime notes: the words (the list itself) and ``steps``, (key, words).

    Tests match a decision by its key (``step(key)``); ``has(text)`` is for where the words
    themselves are the point (a path or an error named to the reader).
    """

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[tuple[str, str]] = []

    def __call__(self, key: str, message: str) -> None:
        self.steps.append((key, message))
        self.append(message)

    def has(self, text: str) -> bool:
        return any(text in step for step in self)

    def step_keys(self) -> list[str]:
        return [key for key, _ in self.steps]

    def step(self, key: str) -> str:
        """The words of the first step with ``key``; fails the test when there is none."""
        found = [message for k, message in self.steps if k == key]
        assert found, f"no step {key!r} in {self.steps}"
        return found[0]


@pytest.fixture
def trace() -> Trace:
    return Trace()
