"""one-tm-ssh: the ``ssh`` transfer driver (entry point ``ssh`` in ``one.tm``)."""
