"""AWS Signature Version 2 as 1.4 checked it, widened to today's SigV2 clients (§3.2, §7 #10).

1.4 computed ``base64(HMAC-SHA1(secret, "POST\\n" + H + "\\n/\\n" + Q))`` with
``H`` = SSL_SERVER or SERVER from the config (no port), ``Q`` = every parameter
but ``Signature`` and ``file``, sorted by key in byte order, escaped with Ruby's
``CGI.escape`` (``~`` → ``%7E``, space → ``%20``). We accept a request when
**any** candidate matches (compared with :func:`hmac.compare_digest`):

* digest: the one ``SignatureMethod`` names, and the other (SHA-1 / SHA-256);
* host: the configured host, that plus ``:PORT``, the Host header as sent, and
  the Host header without its port;
* method: the real one and ``POST``;
* escaping: ``~`` as ``%7E`` (gem < 0.9.10) or kept (RFC 3986, botocore).

The secret is always the user's stored ``sha1hex(password)`` string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import quote

from one_econe.auth.common import SignedRequest

EXCLUDED = frozenset({"Signature", "file"})
_DIGESTS = {"HmacSHA1": hashlib.sha1, "HmacSHA256": hashlib.sha256}


def escape_rfc3986(text: str) -> str:
    """Keep ``A-Z a-z 0-9 - _ . ~``; every other UTF-8 byte as ``%XX`` (upper-case)."""
    return quote(text.encode("utf-8", "surrogateescape"), safe="-_.~")


def escape_14(text: str) -> str:
    """1.4's ``CGI.escape`` + ``%20``: as :func:`escape_rfc3986` but ``~`` → ``%7E``."""
    return escape_rfc3986(text).replace("~", "%7E")


def canonical_query(params: dict[str, str], escape=escape_rfc3986) -> str:
    """``Q``: the signed pairs sorted by key (byte order), ``esc(k)=esc(v)`` joined by ``&``."""
    keys = sorted((k for k in params if k not in EXCLUDED), key=lambda k: k.encode("utf-8"))
    return "&".join(f"{escape(k)}={escape(params[k])}" for k in keys)


def string_to_sign(method: str, host: str, path: str, query: str) -> str:
    return f"{method}\n{host}\n{path}\n{query}"


def sign(secret: str, text: str, digest=hashlib.sha1) -> str:
    """``base64(HMAC(secret, text))`` without newlines."""
    mac = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), digest).digest()
    return base64.b64encode(mac).decode("ascii")


def strip_port(host: str) -> str:
    """``h:4567`` → ``h``; ``[::1]:4567`` → ``[::1]``; no port: unchanged."""
    head, sep, tail = host.rpartition(":")
    if sep and tail.isdigit() and (not head.startswith("[") or head.endswith("]")):
        return head
    return host


def candidate_hosts(config_host: str, port: int, host_header: str) -> list[str]:
    """The configured host, with ``:PORT``, the Host header as sent and without its port."""
    hosts = [config_host, f"{config_host}:{port}"]
    if host_header:
        hosts += [host_header, strip_port(host_header)]
    return list(dict.fromkeys(hosts))


def candidate_signatures(
    rq: SignedRequest, secret: str, config_host: str, port: int
) -> Iterable[str]:
    """Every signature §7 #10 accepts for this request."""
    named = _DIGESTS.get(rq.params.get("SignatureMethod", ""), hashlib.sha1)
    digests = [named] + [d for d in (hashlib.sha1, hashlib.sha256) if d is not named]
    methods = list(dict.fromkeys([rq.method.upper(), "POST"]))
    queries = list(
        dict.fromkeys(
            [canonical_query(rq.params, escape_14), canonical_query(rq.params, escape_rfc3986)]
        )
    )
    for digest in digests:
        for method in methods:
            for host in candidate_hosts(config_host, port, rq.host):
                for query in queries:
                    yield sign(secret, string_to_sign(method, host, "/", query), digest)


def verify_sigv2(rq: SignedRequest, secret: str, config_host: str, port: int) -> bool:
    """Whether ``rq.params["Signature"]`` is one of the accepted signatures (constant time)."""
    given = rq.params.get("Signature", "").encode("utf-8", "surrogateescape")
    ok = False
    for candidate in candidate_signatures(rq, secret, config_host, port):
        ok |= hmac.compare_digest(candidate.encode("ascii"), given)
    return ok
