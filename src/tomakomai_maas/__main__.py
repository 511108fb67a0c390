"""``python -m tomakomai_maas`` = the ``tomakomai-maas`` command."""

import sys

from tomakomai_maas.cli import main

if __name__ == "__main__":
    sys.exit(main())
