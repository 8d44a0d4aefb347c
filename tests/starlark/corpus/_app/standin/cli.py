"""``standin URL``: GET the URL over HTTPS with urllib; print the status, or the reason and exit 1."""

import sys
import urllib.error
import urllib.request


def main() -> None:
    try:
        print(urllib.request.urlopen(sys.argv[1], timeout=10).status)
    except urllib.error.URLError as exc:
        print(getattr(exc.reason, "verify_message", None) or exc.reason)
        sys.exit(1)
