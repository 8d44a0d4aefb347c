"""What a spawn worker runs: a TLS request, with the trust decision the worker made."""

from __future__ import annotations

import sys
import urllib.request
from typing import Any


def fetch(url: str) -> tuple[str, str | None, bool]:
    """GET ``url``; the body, the worker's trust source (None without the bootstrap), frozen."""
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read().decode()
    bootstrap = sys.modules.get("pyoxidizer_ssl_bootstrap")
    source = bootstrap.install().source if bootstrap is not None else None
    return body, source, bool(getattr(sys, "frozen", False))


def fetch_into(url: str, queue: Any) -> None:
    """fetch(url) for a Process: its result, or the error as the body, into ``queue``."""
    try:
        queue.put(fetch(url))
    except Exception as exc:
        queue.put((f"error: {exc}", None, bool(getattr(sys, "frozen", False))))
