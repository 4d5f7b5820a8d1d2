"""The REQUIREMENTS/RANK match-making scheduler (OpenNebula 1.4's ``mm_sched``).

Modules:

* :mod:`.lexer` — the shared REQUIREMENTS/RANK lexer (flex rules of 1.4);
* :mod:`.grammars` — the Lark grammars and the bison-style error messages;
* :mod:`one_core.cnum` (in the core) — C conversions (``atoi``, ``atof``, stream extraction, 32-bit float);
* :mod:`.pattern` — POSIX ``fnmatch`` (flags 0) compiled to regular expressions;
* :mod:`.expr` — parse once, compile to closures over a pre-resolved host record;
* :mod:`.reference` — a plain tree-walking interpreter and per-VM scheduler (for tests);
* :mod:`.policy` — match, capacity, rank, dispatch (the fast path);
* :mod:`.plugin` — the ``sched_place`` hook implementation (entry point ``rank``);
* :mod:`.xmlrecords` — XML-RPC documents to :class:`~one_core.api.PendingVM` /
  :class:`~one_core.api.HostSnapshot`;
* :mod:`.mm_sched` — the out-of-process ``mm_sched`` command.
"""
