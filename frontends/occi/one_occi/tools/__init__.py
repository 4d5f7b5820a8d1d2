"""The occi-* command-line tools (spec cloud-apis §6)."""
