"""Fetch argv[1] over HTTPS; print the status and which importer served the bootstrap and certifi.

For each of the two packages: the class of its loader (OxidizedFinder, or Python's own
SourceFileLoader / SourcelessFileLoader) and "file" when it has a __file__ on disk, else "memory".
"""

import sys
import urllib.error
import urllib.request

import certifi
import pyoxidizer_ssl_bootstrap


def _served(module: object) -> str:
    loader = type(getattr(module, "__loader__", None)).__name__
    return f"{loader}:{'file' if getattr(module, '__file__', None) else 'memory'}"


try:
    status: object = urllib.request.urlopen(sys.argv[1], timeout=10).status
except urllib.error.URLError as exc:
    status = getattr(exc.reason, "verify_message", None) or str(exc.reason)
print(status, f"bootstrap={_served(pyoxidizer_ssl_bootstrap)}", f"certifi={_served(certifi)}")
