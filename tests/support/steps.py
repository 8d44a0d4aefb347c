"""Read the trace's keys from a child's result: ``OUT["steps"] = report.steps``.

Tests match a decision by its stable key; they read the words only where the words themselves
are the point (a path, an error named to the reader).
"""

from __future__ import annotations

from typing import Any


def keys(result: dict[str, Any]) -> list[str]:
    """The keys of every step, in order."""
    return [key for key, _ in result["steps"]]


def step(result: dict[str, Any], key: str) -> str:
    """The words of the first step with ``key``; fails the test when there is none."""
    found = [message for k, message in result["steps"] if k == key]
    assert found, f"no step {key!r} in {result['steps']}"
    return str(found[0])


def steps(result: dict[str, Any], key: str) -> list[str]:
    """The words of every step with ``key``."""
    return [str(message) for k, message in result["steps"] if k == key]
