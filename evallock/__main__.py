import sys

from evallock.cli import main

sys.exit(main())
