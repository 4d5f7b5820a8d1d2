"""xmlrpc-c's built-in ``system.*`` methods (``spec/xmlrpc-api.md`` §1.3)."""

from __future__ import annotations

from typing import Any

from one_core.rpc.registry import (
    FAULT_NO_METHOD,
    FAULT_TYPE,
    Fault,
    Request,
    dispatch,
    method,
)


@method(
    "system.listMethods",
    "A:",
    "Return an array of all available XML-RPC methods on this server.",
    session=False,
)
def list_methods(rq: Request) -> list[str]:
    return rq.registry.names()


@method(
    "system.methodExist",
    "b:s",
    "Tell whether a method by a specified name exists on this server",
    session=False,
)
def method_exist(rq: Request, name: str) -> bool:
    return name in rq.registry


@method(
    "system.methodHelp", "s:s", "Given the name of a method, return a help string.", session=False
)
def method_help(rq: Request, name: str) -> str:
    spec = rq.registry.get(name)
    if spec is None:
        raise Fault(FAULT_NO_METHOD, f"Method '{name}' does not exist")
    return spec.help


@method(
    "system.methodSignature",
    "A:s",
    "Given the name of a method, return an array of legal signatures.",
    session=False,
)
def method_signature(rq: Request, name: str) -> list[list[str]]:
    spec = rq.registry.get(name)
    if spec is None:
        raise Fault(FAULT_NO_METHOD, f"Method '{name}' does not exist")
    return [spec.xmlrpc_signature()]


@method(
    "system.multicall",
    "A:A",
    "Process an array of calls, and return an array of results.",
    session=False,
)
def multicall(rq: Request, calls: list[Any]) -> list[Any]:
    out: list[Any] = []
    for call in calls:
        if not isinstance(call, dict) or not isinstance(call.get("methodName"), str):
            out.append({"faultCode": FAULT_TYPE, "faultString": "Call is not a struct"})
            continue
        name = call["methodName"]
        if name == "system.multicall":
            out.append({"faultCode": -505, "faultString": "Recursive system.multicall forbidden"})
            continue
        params = call.get("params", [])
        try:
            out.append(
                [dispatch(rq.registry, rq.core, name, params if isinstance(params, list) else [])]
            )
        except Fault as f:
            out.append({"faultCode": f.code, "faultString": f.message})
    return out


@method(
    "system.shutdown", "i:s", "Shut down the server.  Return code is always zero.", session=False
)
def shutdown(rq: Request, comment: str) -> int:
    raise Fault(-500, "Shutdown is not permitted on this server")


@method("system.capabilities", "S:", "Return the capabilities of XML-RPC server.", session=False)
def capabilities(rq: Request) -> dict[str, Any]:
    return {"facility": "xmlrpc", "version_major": 1, "version_minor": 0}


@method(
    "system.getCapabilities",
    "S:",
    "Return the list of standard capabilities of XML-RPC server.",
    session=False,
)
def get_capabilities(rq: Request) -> dict[str, Any]:
    return {
        "introspect": {
            "specUrl": "http://xmlrpc-c.sourceforge.net/xmlrpc-c/introspection.html",
            "specVersion": 1,
        },
        "faults_interop": {
            "specUrl": "http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php",
            "specVersion": 20010516,
        },
    }
