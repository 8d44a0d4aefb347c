"""Usage: corporate-ca URL"""

import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with urllib.request.urlopen(argv[1], timeout=30) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except urllib.error.URLError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1
    print(status)
    return 0 if 200 <= status < 300 else 1


sys.exit(main(sys.argv))
