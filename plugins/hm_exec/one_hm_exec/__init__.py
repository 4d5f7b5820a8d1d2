"""one-hm-exec: the hook driver (1.4's ``one_hm``), entry point ``exec`` in ``one.hm``."""
