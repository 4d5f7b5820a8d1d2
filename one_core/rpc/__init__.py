"""The XML-RPC request manager (1.4's ``RequestManager``), served on ``/RPC2``.

How to add methods (for the vnet / VM modules)
==============================================

Write ``one_core/rpc/<area>_methods.py`` and import it in
:func:`one_core.rpc.registry.load_methods`, which oned calls at start-up (a
missing method module stops oned with an error naming it)::

    from one_core.rpc import Request, method, ok

    @method("one.vn.info", "A:si", "Returns virtual network information")
    def vn_info(rq: Request, nid: int) -> list:
        if rq.authenticate() == -1:                       # uid, or -1 (cached per user)
            return rq.fail("User not authenticated, VirtualNetworkInfo call aborted.")
        vnet = rq.core.need_vnet().get(nid)               # the pools: typed attributes of rq.core
        if vnet is None:
            return rq.fail(f"Error getting Virtual Network with NID = {nid}")
        return ok(vnet.info_xml)                          # [True, body]; ok() alone is [True]

Rules the framework enforces for you:

* The signature (``"A:si"``: returns array; session string, int) is checked
  before your function runs: missing parameters fault −501 ``Not enough
  parameters``, wrong types fault −501 ``Parameter that is supposed to be
  integer is not`` (``<i8>``/``<double>`` are not ints), surplus parameters are
  dropped. Your function gets the parameters after the session.
* Python types on the way out: ``bool`` → ``<boolean>``, ``int`` → ``<i4>``,
  ``str`` → ``<string>`` (escaped once). Return ``[True, x]``, ``[True]``,
  ``[False, msg]`` or bare ``[False]`` exactly as the spec lists.
* ``rq.fail(msg)`` logs ``[ReM][E]: msg`` to oned.log (1.4 did for every
  handled error); use ``rq.fail(msg, log_it=False)`` for vm.deploy/migrate/action.
* Never raise for a handled error: an uncaught exception becomes fault −500
  (xmlrpc-c's "did not complete at all"), logged with its traceback.
* Authorisation helpers: ``rq.authenticate()`` (ANY: ``== -1`` is an error;
  ADMIN: ``!= 0``; OWNER: ``not in (0, obj_uid)``), ``rq.username`` (the
  name part of the session, for ``vn.allocate``'s name-only lookup).
* Writes: pools wrap changes in :func:`one_core.db.writer` (the single-writer
  lock + transaction); RPC methods themselves just call the pool.

Plugging a pool/engine into oned: see :mod:`one_core.daemon.core` (``components()``).
Tests: ``tests/conftest.py`` has ``oned`` (a real daemon on a free port) and
``client`` / ``rpc`` fixtures; the conformance suite in ``tests/conformance``
replays the 1.4 wire captures of every registered method automatically.
"""

from one_core.rpc.registry import REGISTRY, Fault, MethodSpec, Registry, Request, method, ok

__all__ = ["REGISTRY", "Fault", "MethodSpec", "Registry", "Request", "method", "ok"]
