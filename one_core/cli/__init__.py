"""Command-line tools: ``oned``, ``onedrivers``, ``onevm``, ``onehost``, ``onevnet``, ``oneuser``."""
