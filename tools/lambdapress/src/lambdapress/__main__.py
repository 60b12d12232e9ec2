"""`python -m lambdapress`: the same command line, for environments without the script."""

from __future__ import annotations

import sys

from lambdapress.cli import main

if __name__ == "__main__":
    sys.exit(main())
