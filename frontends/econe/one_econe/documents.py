"""Response documents of the actions added for today's EC2 clients (issue 20).

Built from plain data by :func:`render`: a dict is a sequence of elements, a
list is ``<item>`` elements, ``True``/``False`` are ``true``/``false``, anything
else is escaped text. The element names are the EC2 2016-11-15 wire names
botocore's ``ec2`` parser reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from one_econe.views import Ec2State, _doc, _e


def render(value: Any) -> str:
    """Plain data → XML fragment (see the module docstring)."""
    if isinstance(value, Mapping):
        return "".join(f"<{k}>{render(v)}</{k}>" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return "".join(f"<item>{render(v)}</item>" for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return _e(value)


def document(root: str, request_id: str, body: Mapping[str, Any]) -> bytes:
    """``<root xmlns=...><requestId/>...`` with ``body`` rendered."""
    return _doc(root, request_id, render(body) + "\n")


def returns_true(root: str, request_id: str) -> bytes:
    """``<return>true</return>`` (CreateTags, DeleteTags, DeleteKeyPair...)."""
    return document(root, request_id, {"return": True})


def state(value: Ec2State) -> dict[str, Any]:
    return {"code": value.code, "name": value.name}


def state_changes(
    root: str, request_id: str, changes: Iterable[tuple[int, Ec2State, Ec2State]]
) -> bytes:
    """Stop/StartInstances: ``(instance id, current state, previous state)`` items."""
    items = [
        {"instanceId": vid, "currentState": state(cur), "previousState": state(prev)}
        for vid, cur, prev in changes
    ]
    return document(root, request_id, {"instancesSet": items})


def key_pair_item(name: str, key_pair_id: str, fingerprint: str, key_type: str) -> dict[str, Any]:
    return {
        "keyPairId": key_pair_id,
        "keyName": name,
        "keyFingerprint": fingerprint,
        "keyType": key_type,
    }
