"""``python -m pyoxidizer_ssl``: the same as the ``pyoxidizer-ssl`` command."""

import sys

from .cli import main

sys.exit(main())
