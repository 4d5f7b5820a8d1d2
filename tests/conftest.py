"""The repository's test suite: fixtures come from the ``one_core.testing`` pytest plugin.

``oned``, ``oned_factory``, ``client``, ``raw_client``, ``sshd``, ``moto_url``,
``pg_server``... are registered by the plugin (entry point ``pytest11`` of
one-core; see :mod:`one_core.testing.plugin`).
"""
