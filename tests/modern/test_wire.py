"""Both dialects on one port: ``/RPC2`` stays 1.4's wire, ``/RPC2/modern`` is today's."""

from __future__ import annotations

from one_core.rpc.codec import encode_call, parse_response
from one_core.rpc.modern import PATH
from one_core.testing.oned import ONEADMIN_PASSWORD, ONEADMIN_SESSION, OnedProcess

PLAIN = f"oneadmin:{ONEADMIN_PASSWORD}"


def _call(oned: OnedProcess, path: str, method: str, *params: object) -> tuple[bool, object]:
    status, body, headers = oned.post(encode_call(method, list(params)), path=path)
    assert status == 200
    assert headers["content-type"] == "text/xml; charset=utf-8"
    return parse_response(body)


def test_modern_answers_three_elements(oned: OnedProcess) -> None:
    assert _call(oned, PATH, "one.system.version", PLAIN) == (True, [True, "7.4.0", 0])
    assert _call(oned, PATH, "one.host.allocate", PLAIN, "h", "im_dummy", "vmm_dummy", -1) == (
        True,
        [True, 0, 0],
    )
    ok, (flag, message, code) = _call(oned, PATH, "one.vm.info", PLAIN, 7)
    assert (ok, flag, code) == (True, False, 0x0400)
    assert message == "[one.vm.info] Error getting virtual machine [7]."


def test_the_1_4_wire_is_untouched(oned: OnedProcess) -> None:
    assert _call(oned, "/RPC2", "one.system.version", ONEADMIN_SESSION) == (
        False,
        (-506, "Method 'one.system.version' not defined"),
    )
    ok, value = _call(oned, "/RPC2", "one.userpool.info", ONEADMIN_SESSION)
    assert ok and value[0] is True and len(value) == 2
    assert "<ENABLED>True</ENABLED>" in value[1]  # 1.4's pool spelling
    ok, value = _call(oned, PATH, "one.userpool.info", PLAIN)
    assert "<ENABLED>1</ENABLED>" in value[1]


def test_protocol_errors_stay_xmlrpc_faults(oned: OnedProcess) -> None:
    assert _call(oned, PATH, "one.vm.info", PLAIN) == (False, (-501, "Not enough parameters"))
    assert _call(oned, PATH, "one.vm.info", PLAIN, "7") == (
        False,
        (-501, "Parameter that is supposed to be integer is not"),
    )
    assert _call(oned, PATH, "one.vm.allocate", PLAIN, "NAME=x", 1) == (
        False,
        (-501, "Parameter that is supposed to be boolean is not"),
    )
    assert oned.post(encode_call("one.system.version", [PLAIN]), path=PATH + "/x")[0] == 404
    assert oned.post(b"", method="GET", path=PATH)[0] == 405
