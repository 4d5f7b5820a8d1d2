"""The ``VM`` and ``VM_POOL`` documents (``spec/xmlrpc-api.md`` §9.1, §9.2).

One line, fixed element order, text escaped (``&``, ``<``, ``>``, choice X1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

HISTORY_TAGS: tuple[tuple[str, str], ...] = (
    ("SEQ", "seq"),
    ("HOSTNAME", "host_name"),
    ("HID", "hid"),
    ("STIME", "stime"),
    ("ETIME", "etime"),
    ("PSTIME", "pstime"),
    ("PETIME", "petime"),
    ("RSTIME", "rstime"),
    ("RETIME", "retime"),
    ("ESTIME", "estime"),
    ("EETIME", "eetime"),
    ("REASON", "reason"),
)

_HEAD = (("ID", "oid"), ("UID", "uid"))
_BODY = (
    ("NAME", "name"),
    ("LAST_POLL", "last_poll"),
    ("STATE", "state"),
    ("LCM_STATE", "lcm_state"),
    ("STIME", "stime"),
    ("ETIME", "etime"),
    ("DEPLOY_ID", "deploy_id"),
    ("MEMORY", "memory"),
    ("CPU", "cpu"),
    ("NET_TX", "net_tx"),
    ("NET_RX", "net_rx"),
)


def escape(value: Any) -> str:
    text = "" if value is None else str(value)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _elements(pairs: Iterable[tuple[str, str]], row: Mapping[str, Any]) -> str:
    return "".join(f"<{tag}>{escape(row[key])}</{tag}>" for tag, key in pairs)


def history_xml(record: Mapping[str, Any] | None) -> str:
    if record is None:
        return ""
    return f"<HISTORY>{_elements(HISTORY_TAGS, record)}</HISTORY>"


def vm_xml(row: Mapping[str, Any], template_xml: str, history: Mapping[str, Any] | None) -> str:
    """``one.vm.info``'s body: no USERNAME, with TEMPLATE, latest HISTORY if any."""
    return (
        "<VM>"
        + _elements(_HEAD, row)
        + _elements(_BODY, row)
        + template_xml
        + history_xml(history)
        + "</VM>"
    )
