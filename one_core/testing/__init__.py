"""Test kit for one-core, its drivers and front-ends: a pytest plugin and helpers.

The pytest plugin (:mod:`one_core.testing.plugin`, entry point ``pytest11``)
gives every test run the fixtures ``oned``/``oned_factory`` (a real oned with
chosen drivers), ``db_backend``/``db_options``/``pg_server`` (SQLite and
PostgreSQL), ``sshd``, ``libvirt_guest``, ``moto_url``/``ec2``,
``throttling_server`` and ``recording_driver``. Helper modules:

* :mod:`.oned` — :class:`~.oned.OnedProcess`, oned.conf rendering;
* :mod:`.databases`, :mod:`.postgres` — the database as a test parameter;
* :mod:`.engine_harness` — the VM engine around one driver, no daemon;
* :mod:`.drivers` — a driver from a 1.4 oned.conf section, SSH host pools;
* :mod:`.sshd`, :mod:`.guest`, :mod:`.moto` — real servers for driver tests;
* :mod:`.recording` — a driver recording every hook call;
* :mod:`.file_calls` — :class:`~.file_calls.FileCalls`, the file system calls code makes;
* :mod:`.cloud` — cloud front-end server processes;
* :mod:`.process` — :func:`~.process.stop_process`, ending a test's subprocess;
* :mod:`.prefix` — a per-run prefix for machine-wide names (domains, bridges).

Importing this package imports nothing else.
"""
