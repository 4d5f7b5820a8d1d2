"""Request parameters as the EC2 Query protocol lists them (``Name.N``, ``Filter.N.Value.M``).

Every action declares the parameters it honours (:func:`check_known`); any
other parameter fails with 400 ``UnknownParameter`` instead of being silently
ignored (issue 20). Lists are read in index order; filters and tags are
validated here, so actions only see well-formed values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from one_econe.errors import EC2Error, bad_request

COMMON = frozenset(
    {
        "Action",
        "Version",
        "AWSAccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "Timestamp",
        "Expires",
        "DryRun",
    }
)
"""Protocol parameters every action accepts (the signature and the clock are checked by the app)."""

_INDEX = r"[1-9][0-9]*"


def pattern(*names: str) -> re.Pattern[str]:
    """A full-match pattern of parameter names; ``.N`` stands for a 1-based index."""
    alternatives = (re.sub(r"\\\.N(?=\\\.|$)", rf"\\.{_INDEX}", re.escape(n)) for n in names)
    return re.compile("(?:" + "|".join(alternatives) + ")")


FILTERS = ("Filter.N.Name", "Filter.N.Value.N")
PAGING = ("MaxResults", "NextToken")


def check_known(params: Mapping[str, str], allowed: re.Pattern[str]) -> None:
    """400 ``UnknownParameter`` for the first parameter the action does not honour."""
    for name in sorted(params):
        if name in COMMON or allowed.fullmatch(name):
            continue
        raise EC2Error(400, "UnknownParameter", f"The parameter {name} is not recognized")


def indexed(params: Mapping[str, str], prefix: str) -> list[str]:
    """The values of ``<prefix>.1..N`` in index order."""
    rx = re.compile(re.escape(prefix) + rf"\.({_INDEX})")
    found = []
    for key, value in params.items():
        match = rx.fullmatch(key)
        if match:
            found.append((int(match.group(1)), value))
    return [value for _, value in sorted(found)]


def _groups(params: Mapping[str, str], prefix: str) -> dict[int, dict[str, str]]:
    """``<prefix>.N.<rest>`` → ``{N: {rest: value}}``."""
    rx = re.compile(re.escape(prefix) + rf"\.({_INDEX})\.(.+)")
    groups: dict[int, dict[str, str]] = {}
    for key, value in params.items():
        match = rx.fullmatch(key)
        if match:
            groups.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return dict(sorted(groups.items()))


@dataclass(frozen=True)
class Filter:
    """One ``Filter.N``: a name and the values any of which may match (``*``/``?`` wildcards)."""

    name: str
    values: tuple[str, ...]

    def matches(self, candidates: Iterable[str]) -> bool:
        regexes = [_wildcard(v) for v in self.values]
        return any(rx.fullmatch(c) for c in candidates for rx in regexes)


def _wildcard(value: str) -> re.Pattern[str]:
    """AWS filter values: ``*`` any run, ``?`` one character, ``\\`` escapes them."""
    out = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            out.append(re.escape(value[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def filters(params: Mapping[str, str], known: Iterable[str], *, tags: bool = False) -> list[Filter]:
    """The request's filters; 400 ``InvalidParameterValue`` for a name not in ``known``.

    ``tags=True`` also accepts ``tag:<key>`` names.
    """
    names = set(known)
    result = []
    for group in _groups(params, "Filter").values():
        name = group.get("Name", "")
        if not name:
            raise EC2Error(400, "MissingParameter", "A filter needs a Name")
        if name not in names and not (tags and name.startswith("tag:") and len(name) > 4):
            raise bad_request(f"The filter '{name}' is invalid")
        values = tuple(
            v for k, v in sorted(group.items(), key=_value_index) if k.startswith("Value.")
        )
        if not values:
            raise bad_request(f"The filter '{name}' needs at least one value")
        result.append(Filter(name, values))
    return result


def _value_index(item: tuple[str, str]) -> int:
    key = item[0]
    return int(key.split(".", 1)[1]) if key.startswith("Value.") else 0


def tag_list(params: Mapping[str, str], prefix: str = "Tag") -> list[tuple[str, str | None]]:
    """``<prefix>.N.Key`` / ``.Value`` pairs in index order (value ``None`` when absent)."""
    pairs = []
    for group in _groups(params, prefix).values():
        key = group.get("Key")
        if key is None:
            raise EC2Error(400, "MissingParameter", f"{prefix}.N.Key is required")
        pairs.append((key, group.get("Value")))
    return pairs


def tag_specifications(params: Mapping[str, str], resource_type: str) -> list[tuple[str, str]]:
    """The tags of ``TagSpecification.N`` for ``resource_type``; other types are refused."""
    pairs: list[tuple[str, str]] = []
    for group in _groups(params, "TagSpecification").values():
        kind = group.get("ResourceType", "")
        if kind != resource_type:
            raise bad_request(f"'{kind}' is not a valid taggable resource type for this operation.")
        sub = {k: v for k, v in group.items() if k != "ResourceType"}
        pairs.extend((key, value or "") for key, value in tag_list(sub, "Tag"))
    return pairs


def integer(params: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    """An integer parameter (``default`` if absent); 400 ``InvalidParameterValue`` if bad."""
    text = params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"Value ({text}) for parameter {name} is invalid.") from None
    if value < minimum:
        raise bad_request(f"Value ({value}) for parameter {name} is invalid.")
    return value


def boolean(params: Mapping[str, str], name: str) -> bool:
    """``true``/``false`` (absent: false); anything else is ``InvalidParameterValue``."""
    text = params.get(name, "false").lower()
    if text not in ("true", "false"):
        raise bad_request(f"Value ({params[name]}) for parameter {name} is invalid.")
    return text == "true"


def page(items: list, params: Mapping[str, str], default_max: int = 1000) -> tuple[list, str]:
    """``MaxResults``/``NextToken`` paging: the page and the next token (``""`` at the end)."""
    size = integer(params, "MaxResults", default_max, minimum=1)
    token = params.get("NextToken", "")
    start = 0
    if token:
        if not token.isdigit() or int(token) > len(items):
            raise bad_request(f"The token '{token}' is invalid", "InvalidNextToken")
        start = int(token)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else "")
