"""one-tm-nfs: the ``nfs`` transfer driver (entry point ``nfs`` in ``one.tm``)."""
