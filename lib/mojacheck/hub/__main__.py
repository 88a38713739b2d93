import sys

from mojacheck.hub.cli import main

sys.exit(main())
