"""``python -m sunpy_magnetogan.cli``."""

import sys

from sunpy_magnetogan.cli import main

sys.exit(main())
