"""What the verifiers need to know about a request, and the clock check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from one_econe.errors import EC2Error, bad_request, request_expired


@dataclass
class SignedRequest:
    """The parts of an HTTP request that signatures cover.

    ``params`` are the merged query and form parameters (body wins), never the
    multipart ``file`` part; ``body_sha256`` is the hex SHA-256 of the raw body
    as received (computed while streaming it).
    """

    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-case names
    params: dict[str, str]
    body_sha256: str
    host: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def parse_timestamp(text: str) -> dt.datetime:
    """ISO 8601 as the EC2 tools send it (``2010-01-15T10:20:30Z``, fractions, offsets)."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def check_clock(
    when: dt.datetime | None,
    expires: dt.datetime | None,
    max_skew: int,
    now: dt.datetime | None = None,
) -> None:
    """Refuse stale or expired requests (1.4 did not check; spec §7 #11).

    ``max_skew`` <= 0 disables the check. Otherwise a request needs a time
    (``when``: Timestamp / X-Amz-Date) within ±``max_skew`` seconds of now,
    or an ``expires`` (SigV2 ``Expires``) that has not passed.
    """
    if max_skew <= 0:
        return
    now = now or dt.datetime.now(dt.UTC)
    if expires is not None:
        if now > expires:
            raise request_expired(f"Request has expired. Expires date is {_iso(expires)}")
        return
    if when is None:
        raise bad_request(
            "The request must contain the parameter Timestamp or Expires", "MissingParameter"
        )
    if abs((now - when).total_seconds()) > max_skew:
        raise request_expired(
            f"Request has expired. Timestamp date is {_iso(when)}, "
            f"more than {max_skew} seconds away from {_iso(now)}"
        )


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamp_or_error(text: str, what: str) -> dt.datetime:
    try:
        return parse_timestamp(text)
    except ValueError:
        raise EC2Error(400, "InvalidParameterValue", f"Invalid {what}: {text}") from None
