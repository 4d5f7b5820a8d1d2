"""AWS Signature Version 4 as botocore signs EC2 requests (spec §8.3 item 2).

Header form only (``Authorization: AWS4-HMAC-SHA256 Credential=<user>/<date>/
<region>/ec2/aws4_request, SignedHeaders=..., Signature=<hex>``); any region,
service ``ec2``. The payload hash is always the SHA-256 of the body as
received, so a body cannot be changed under a valid signature. The secret is
the user's stored ``sha1hex(password)`` string.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from one_econe.auth.common import SignedRequest, parse_timestamp

ALGORITHM = "AWS4-HMAC-SHA256"
_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)\s*$"
)


class SigV4FormatError(Exception):
    """The Authorization header is not a well-formed SigV4 header."""


@dataclass(frozen=True)
class SigV4Header:
    access_key: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: list[str]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


def is_sigv4(headers: dict[str, str]) -> bool:
    return headers.get("authorization", "").startswith(ALGORITHM)


def parse_authorization(value: str) -> SigV4Header:
    match = _AUTH_RE.match(value.strip())
    if match is None:
        raise SigV4FormatError("Malformed Authorization header")
    parts = match.group(1).split("/")
    if len(parts) < 5:
        raise SigV4FormatError("Malformed Credential")
    access_key = "/".join(parts[:-4])
    date, region, service, terminator = parts[-4:]
    return SigV4Header(
        access_key=access_key,
        date=date,
        region=region,
        service=service,
        terminator=terminator,
        signed_headers=match.group(2).split(";"),
        signature=match.group(3).lower(),
    )


def _uri_escape(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query_string(query_string: str) -> str:
    pairs = parse_qsl(query_string, keep_blank_values=True)
    encoded = sorted((_uri_escape(k), _uri_escape(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _header_value(rq: SignedRequest, name: str) -> str:
    value = rq.host if name == "host" else rq.headers.get(name, "")
    return " ".join(value.split())


def canonical_request(rq: SignedRequest, signed_headers: list[str]) -> str:
    path = quote(rq.path or "/", safe="/-_.~")
    headers = "".join(f"{name}:{_header_value(rq, name)}\n" for name in signed_headers)
    return "\n".join(
        [
            rq.method.upper(),
            path,
            canonical_query_string(rq.query_string),
            headers,
            ";".join(signed_headers),
            rq.body_sha256,
        ]
    )


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def request_time(rq: SignedRequest) -> dt.datetime:
    """The signed time: ``X-Amz-Date`` (``20100115T102030Z``)."""
    raw = rq.headers.get("x-amz-date", "")
    try:
        return dt.datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        try:
            return parse_timestamp(raw)
        except ValueError:
            raise SigV4FormatError("Missing or malformed X-Amz-Date") from None


def verify_sigv4(rq: SignedRequest, auth: SigV4Header, secret: str) -> bool:
    """Recompute the signature of ``rq`` with ``secret``; compare in constant time."""
    amz_date = rq.headers.get("x-amz-date", "")
    if auth.service != "ec2" or auth.terminator != "aws4_request":
        return False
    if not amz_date.startswith(auth.date) or "host" not in auth.signed_headers:
        return False
    creq = canonical_request(rq, auth.signed_headers)
    to_sign = "\n".join(
        [ALGORITHM, amz_date, auth.scope, hashlib.sha256(creq.encode("utf-8")).hexdigest()]
    )
    key = signing_key(secret, auth.date, auth.region, auth.service)
    expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), auth.signature.encode("ascii"))
