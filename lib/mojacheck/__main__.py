"""`python -m mojacheck ...` = `mojacheck ...`."""

import sys

from mojacheck.cli import main

sys.exit(main())
