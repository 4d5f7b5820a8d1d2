"""The Xen virtualization driver (entry point ``xen`` in ``one.vmm``)."""
