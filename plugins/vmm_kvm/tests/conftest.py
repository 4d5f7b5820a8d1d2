"""Fixtures of the KVM driver tests: ``sshd`` and ``libvirt_guest`` come from the
``one_core.testing`` pytest plugin (:mod:`one_core.testing.sshd`, :mod:`one_core.testing.guest`)."""
