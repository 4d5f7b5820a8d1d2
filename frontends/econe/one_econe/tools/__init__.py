"""The econe-* command-line tools (spec cloud-apis §4)."""
