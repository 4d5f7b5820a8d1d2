"""one-web: the web dashboard of OpenNebula-py (docs/web.md)."""
