"""``python -m sedna.cli``."""

import sys

from sedna.cli import main

sys.exit(main())
