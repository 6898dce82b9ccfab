"""``python -m sferum_sandbox``: the same as the ``sferum-sandbox`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
