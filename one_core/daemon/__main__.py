"""``python -m one_core.daemon`` = ``oned``."""

import sys

from one_core.daemon import main

sys.exit(main())
