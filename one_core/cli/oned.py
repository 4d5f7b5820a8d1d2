"""``oned``: the OpenNebula daemon (see :mod:`one_core.daemon`)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """The ``oned`` console script: the daemon's command line as is (``argv`` None: the
    process's own, and oned may start again under ``-OO``: one_core/daemon/optimize.py)."""
    from one_core.daemon import main as daemon_main

    return daemon_main(argv)


if __name__ == "__main__":
    sys.exit(main())
