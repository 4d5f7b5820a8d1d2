"""one-im-kvm: the ``kvm`` information driver (entry point ``kvm`` in ``one.im``)."""
