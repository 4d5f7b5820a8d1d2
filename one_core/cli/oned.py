"""``oned``: the OpenNebula daemon (see :mod:`one_core.daemon`)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from one_core.daemon import main as daemon_main

    return daemon_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
