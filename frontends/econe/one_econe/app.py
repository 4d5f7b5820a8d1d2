"""The WSGI application of econe-server (spec cloud-apis §3.1, §8.3).

Per request: read the parameters (query string, then a form or multipart
body, body wins), streaming a multipart ``file`` part straight into the
image repository's temporary directory while hashing the raw body for SigV4;
authenticate (SigV4 if there is an ``Authorization: AWS4-HMAC-SHA256``
header, else SigV2) and check the clock; then ``/`` only, ``GET``/``POST``
only, and dispatch on ``Action``. Every failure is an EC2 XML error document
(:mod:`one_econe.errors`).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import multipart
from one_cloudkit.images import Upload, UploadFailed, UploadTooLarge
from one_cloudkit.wsgi import CloudApp, FieldTooLarge, body_chunks, stream_multipart

from one_econe.actions import EconeActions
from one_econe.auth import SignedRequest, check_clock, is_sigv4, verify_sigv2, verify_sigv4
from one_econe.auth.common import timestamp_or_error
from one_econe.auth.sigv4 import SigV4FormatError, parse_authorization, request_time
from one_econe.config import EconeConfig
from one_econe.errors import (
    EC2Error,
    auth_failure,
    bad_request,
    invalid_action,
    not_found,
)
from one_econe.users import CloudUser

log = logging.getLogger("econe")

MAX_FORM_BODY = 16 * 1024 * 1024
"""Largest urlencoded body accepted (only uploads are big)."""
MAX_FIELD = 64 * 1024
"""Largest text field of a multipart body."""

XML_TYPE = "text/xml;charset=UTF-8"


def _hashed(chunks: Iterable[bytes], sha256: Any) -> Iterator[bytes]:
    """``chunks``, each added to ``sha256`` as it passes (SigV4 signs the raw body)."""
    for chunk in chunks:
        sha256.update(chunk)
        yield chunk


class _Body:
    """The request body as read: parameters, raw SHA-256, and an upload if any."""

    def __init__(self) -> None:
        self.params: dict[str, str] = {}
        self.sha256 = hashlib.sha256()
        self.upload: Upload | None = None

    def abort(self) -> None:
        if self.upload is not None:
            self.upload.abort()
            self.upload = None


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    return headers


class EconeApp(CloudApp):
    """``EconeApp(config)`` is the WSGI callable."""

    config: EconeConfig

    def setup(self) -> None:
        self.actions = EconeActions(self.config, self.repo, self.users.client)

    # -- WSGI ------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request_id = str(uuid.uuid4())
        info = {"user": "-", "action": "-"}
        detail = ""
        try:
            body = self.handle(environ, request_id, info)
            status = "200 OK"
        except EC2Error as exc:
            body = exc.document(request_id)
            status = f"{exc.status} {_REASONS.get(exc.status, 'Error')}"
            detail = f" {exc.code}: {exc.message}"
        except Exception:
            log.exception("Internal error")
            body = EC2Error(500, "InternalError", "Internal server error").document(request_id)
            status = "500 Internal Server Error"
        log.info(
            '%s %s "%s %s" %s %s%s',
            environ.get("REMOTE_ADDR", "-"),
            info["user"],
            environ.get("REQUEST_METHOD"),
            environ.get("PATH_INFO"),
            info["action"],
            status.split(" ", 1)[0],
            detail,
        )
        start_response(
            status,
            [("Content-Type", XML_TYPE), ("Content-Length", str(len(body)))],
        )
        return [body]

    def handle(self, environ: dict[str, Any], request_id: str, info: dict[str, str]) -> bytes:
        """The response body of a successful request; fills ``info`` (user, action) for the log."""
        method = environ.get("REQUEST_METHOD", "GET").upper()
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
        path = raw_uri.split("?", 1)[0] if raw_uri else environ.get("PATH_INFO", "/")
        query = environ.get("QUERY_STRING", "")
        headers = _headers(environ)
        body = _Body()
        try:
            body.params.update(parse_qsl(query, keep_blank_values=True))
            self._read_body(environ, headers, body)
            rq = SignedRequest(
                method=method,
                path=path or "/",
                query_string=query,
                headers=headers,
                params=body.params,
                body_sha256=body.sha256.hexdigest(),
                host=headers.get("host", ""),
            )
            info["action"] = body.params.get("Action", "-") or "-"
            user = self.authenticate(rq)
            info["user"] = user.name
            if (path or "/") != "/" or method not in ("GET", "POST"):
                raise not_found()
            action = body.params.get("Action", "")
            if body.params.get("DryRun", "").lower() == "true":
                raise EC2Error(
                    412,
                    "DryRunOperation",
                    "Request would have succeeded, but DryRun flag is set.",
                )
            if action == "UploadImage":
                return self._upload_image(user, body, request_id)
            handler = self.actions.handlers.get(action)
            if handler is None:
                raise invalid_action(action)
            return handler(user, body.params, request_id)
        finally:
            body.abort()

    # -- body ------------------------------------------------------------------

    def _read_body(self, environ: dict[str, Any], headers: dict[str, str], body: _Body) -> None:
        ctype, options = multipart.parse_options_header(headers.get("content-type", ""))
        chunks = _hashed(body_chunks(environ), body.sha256)
        if ctype == "multipart/form-data":
            self._read_multipart(chunks, options.get("boundary", ""), body)
            return
        data = bytearray()
        for chunk in chunks:
            if len(data) + len(chunk) > MAX_FORM_BODY:
                raise EC2Error(413, "RequestEntityTooLarge", "Request body too large")
            data += chunk
        if ctype in ("application/x-www-form-urlencoded", "") and data:
            text = data.decode("utf-8", "surrogateescape")
            body.params.update(parse_qsl(text, keep_blank_values=True))

    def _read_multipart(self, chunks: Iterable[bytes], boundary: str, body: _Body) -> None:
        if not boundary:
            raise bad_request("multipart/form-data without a boundary", "MalformedQueryString")
        try:
            parsed = stream_multipart(chunks, boundary, self.repo.upload, MAX_FIELD)
        except FieldTooLarge as exc:
            raise bad_request(str(exc)) from None
        except UploadTooLarge as exc:
            raise EC2Error(413, "RequestEntityTooLarge", exc.message) from None
        except UploadFailed as exc:
            raise EC2Error(500, "InternalError", exc.message) from None
        except multipart.MultipartError as exc:
            raise bad_request(f"Malformed multipart body: {exc}", "MalformedQueryString") from None
        for name, value in parsed.fields:
            body.params[name] = value.decode("utf-8", "surrogateescape")
        body.upload = parsed.upload

    # -- authentication --------------------------------------------------------

    def authenticate(self, rq: SignedRequest) -> CloudUser:
        """The user the request is signed by; AuthFailure / RequestExpired otherwise."""
        cfg = self.config
        if is_sigv4(rq.headers):
            try:
                auth = parse_authorization(rq.headers["authorization"])
                when = request_time(rq)
            except SigV4FormatError as exc:
                raise EC2Error(400, "IncompleteSignature", str(exc)) from None
            user = self.users.get(auth.access_key)
            if user is None or not verify_sigv4(rq, auth, user.password):
                raise auth_failure()
            check_clock(when, None, cfg.max_skew)
            return user
        user = self.users.get(rq.params.get("AWSAccessKeyId"))
        if user is None or not verify_sigv2(rq, user.password, cfg.signature_host, cfg.port):
            raise auth_failure()
        stamp = rq.params.get("Timestamp")
        expires = rq.params.get("Expires")
        check_clock(
            timestamp_or_error(stamp, "Timestamp") if stamp else None,
            timestamp_or_error(expires, "Expires") if expires else None,
            cfg.max_skew,
        )
        return user

    # -- UploadImage ------------------------------------------------------------

    def _upload_image(self, user: CloudUser, body: _Body, request_id: str) -> bytes:
        """Store the streamed ``file`` part as ``user``'s image (§3.4)."""
        if body.upload is None:
            raise bad_request("UploadImage needs a file part named file", "MissingParameter")
        upload, body.upload = body.upload, None
        try:
            image = upload.commit(owner=user.id)
        except UploadFailed as exc:
            raise EC2Error(500, "InternalError", exc.message) from None
        log.info("UploadImage: image %s (%s bytes) for %s", image.id, image.size, user.name)
        return self.actions.upload_image(user, image, request_id)


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
}
