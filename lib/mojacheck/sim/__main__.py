import sys

from mojacheck.sim.cli import main

sys.exit(main())
