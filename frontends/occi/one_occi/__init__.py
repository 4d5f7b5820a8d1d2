"""OCCI REST API of OpenNebula-py (spec cloud-apis §5-6)."""
