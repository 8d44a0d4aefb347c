"""What a spawn worker runs: a TLS request, with the trust decision the worker made."""

from __future__ import annotations

import sys
import urllib.request


def fetch(url: str) -> tuple[str, str | None, bool]:
    """GET ``url``; the body, the worker's trust source (None without the bootstrap), frozen."""
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read().decode()
    bootstrap = sys.modules.get("pyoxidizer_ssl_bootstrap")
    source = bootstrap.install().source if bootstrap is not None else None
    return body, source, bool(getattr(sys, "frozen", False))
