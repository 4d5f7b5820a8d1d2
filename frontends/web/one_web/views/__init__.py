"""The pages: one module per object family, sharing :mod:`.common`."""
