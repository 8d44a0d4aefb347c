"""Usage: requests-app URL"""

import sys

import requests


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        status = requests.get(argv[1], timeout=30).status_code
    except requests.RequestException as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(status)
    return 0 if 200 <= status < 300 else 1


sys.exit(main(sys.argv))
