"""The driver kit: what drivers that work on hosts share (distribution ``one-driverkit``).

* :mod:`one_driverkit.remote` — commands on hosts over SSH (fabric): the pool oned
  hands to drivers as ``ctx.remote(host)``, :class:`~one_driverkit.remote.LocalHost`
  for the front-end, binary pipes.
* :mod:`one_driverkit.settings` — a driver's settings from its oned.conf section,
  its defaults file and built-in values.
* :mod:`one_driverkit.vmm_helpers` — deployment files and tool errors of
  virtualization drivers that drive a hypervisor tool over SSH.
* :mod:`one_driverkit.context_iso` — the VM's context CD-ROM image (pycdlib).

The core (``one-core``) does not depend on this distribution: ``import one_core``
and an oned running only the dummy drivers never import fabric, paramiko or pycdlib.
"""
