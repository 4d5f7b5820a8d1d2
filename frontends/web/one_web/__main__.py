"""``python -m one_web``."""

from one_web.cli import main

main()
