"""Every step of the trace carries a stable key: dotted, lower-case, written where it is noted.

The keys are the trace's data (rustls-native-certs' ``ErrorKind`` is the model): tests and
``doctor --json`` match them, while the words beside them are for people and may change.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pyoxidizer_ssl import config, render

KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
# The first segment names the layer that decides the step.
AREAS = {
    "start",
    "sources",
    "decision",
    "private_dir",
    "cleanup",
    "cache",
    "plan",
    "export",
    "patches",
    "grpc",
    "app",
}
NOTE_NAMES = {"note", "_note", "note_once"}


@pytest.fixture(scope="module")
def note_calls() -> list[tuple[str, int, ast.expr]]:
    """(module, line, first argument) of every note call in the rendered runtime."""
    settings = config.validate({}, Path.cwd())
    rendered, _ = render.render_sources(settings)
    calls = []
    for name, text in rendered.items():
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in NOTE_NAMES and node.args:
                calls.append((name, node.lineno, node.args[0]))
    return calls


def _key_pattern(arg: ast.expr) -> str | None:
    """The key a call passes, with each f-string placeholder as ``x``; None if not literal."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr):
        parts = []
        for value in arg.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                parts.append("x")
        return "".join(parts)
    return None


def test_there_are_note_calls_to_check(note_calls) -> None:
    assert len(note_calls) > 60


def test_every_note_call_passes_a_literal_dotted_key(note_calls) -> None:
    bad = []
    for module, line, arg in note_calls:
        if isinstance(arg, ast.Name) and arg.id == "key":
            continue  # a forwarder: note_once(key, message), Report.note
        key = _key_pattern(arg)
        if key is None or not KEY.fullmatch(key) or key.split(".")[0] not in AREAS:
            bad.append(f"{module}:{line}: {key if key is not None else ast.dump(arg)}")
    assert bad == []


def test_keys_are_data_in_the_report(runtime, monkeypatch) -> None:
    """Report.steps pairs each trace line with its key; Report.note takes an app's own.

    Disabled, so that install() in this process patches nothing."""
    monkeypatch.setenv("PYOXIDIZER_SSL_DISABLE", "1")
    report = runtime.install()
    report.note("hello from the app")
    assert [message for _, message in report.steps] == report.trace
    assert report.steps[0][0] == "start.disabled"
    assert report.steps[-1] == ("app.note", "hello from the app")
    steps = report.as_dict()["steps"]
    assert steps[-1] == {"key": "app.note", "message": "hello from the app"}
