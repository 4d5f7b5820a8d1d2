"""The Xen information driver (entry point ``xen`` in ``one.im``)."""
