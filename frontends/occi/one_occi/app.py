"""The WSGI application of occi-server (spec cloud-apis §5).

Per request: HTTP Basic authentication against oned's users (§5.2; before
anything else, as 1.4's ``before`` filter, so unauthenticated bodies are
never read); then the route (§5.1: unknown paths 404, a known path with an
unsupported method 501, §7 #29); then the body: XML for POST/PUT on compute
and network (content type ``application/xml``, ``text/xml``, ``+xml``, or
the ``application/x-www-form-urlencoded`` / none the 1.4 tools send; else
415), ``multipart/form-data`` for POST /storage, streamed into the image
repository. Success bodies are ``application/xml``; errors ``text/plain``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

import multipart
from one_cloudkit.images import Upload, UploadFailed, UploadTooLarge
from one_cloudkit.users import CloudUser
from one_cloudkit.wsgi import CloudApp, FieldTooLarge, body_chunks, stream_multipart

from one_occi import views
from one_occi.config import OcciConfig
from one_occi.errors import REASONS, OcciError, bad_request, not_found, unauthorized
from one_occi.resources import Resources, disk_metadata
from one_occi.xmlbody import MAX_XML, parse

log = logging.getLogger("occi")

MAX_FIELD = 64 * 1024
XML_TYPE = "application/xml"
TEXT_TYPE = "text/plain; charset=utf-8"
XML_CONTENT_TYPES = ("application/xml", "text/xml", "application/x-www-form-urlencoded", "")
_ID = re.compile(r"^\d+$")

# (kind, is_entry) -> allowed methods
METHODS: dict[tuple[str, bool], tuple[str, ...]] = {
    ("compute", False): ("GET", "POST"),
    ("compute", True): ("GET", "PUT", "DELETE"),
    ("network", False): ("GET", "POST"),
    ("network", True): ("GET", "DELETE"),
    ("storage", False): ("GET", "POST"),
    ("storage", True): ("GET", "DELETE"),
}


def route(path: str) -> tuple[str, int | None]:
    """``/compute`` → ("compute", None); ``/compute/7`` → ("compute", 7); else 404."""
    parts = path.split("/")
    if len(parts) in (2, 3) and parts[0] == "" and (parts[1], len(parts) == 3) in METHODS:
        if len(parts) == 2:
            return parts[1], None
        if _ID.match(parts[2]):  # §7 #14: no to_i; a bad id is 404
            return parts[1], int(parts[2])
    raise not_found()


class OcciApp(CloudApp):
    """``OcciApp(config)`` is the WSGI callable."""

    config: OcciConfig

    def setup(self) -> None:
        self.resources = Resources(self.config, self.repo, self.users.client, self.users.admin)

    # -- WSGI ------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        info = {"user": "-"}
        headers: list[tuple[str, str]] = []
        try:
            status, body = self.handle(environ, info)
            ctype = XML_TYPE
        except OcciError as exc:
            status, body, ctype = exc.status, exc.message.encode("utf-8"), TEXT_TYPE
            headers += exc.headers
        except Exception:
            log.exception("Internal error")
            status, body, ctype = 500, b"Internal server error", TEXT_TYPE
        log.info(
            '%s %s "%s %s" %s',
            environ.get("REMOTE_ADDR", "-"),
            info["user"],
            environ.get("REQUEST_METHOD"),
            environ.get("PATH_INFO"),
            status,
        )
        if status != 204:
            headers += [("Content-Type", ctype), ("Content-Length", str(len(body)))]
        else:
            body = b""
        start_response(f"{status} {REASONS.get(status, 'Error')}", headers)
        return [body]

    def handle(self, environ: dict[str, Any], info: dict[str, str]) -> tuple[int, bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "/")
        user = self.authenticate(environ.get("HTTP_AUTHORIZATION", ""))
        info["user"] = user.name
        kind, rid = route(path)
        allowed = METHODS[(kind, rid is not None)]
        if method not in allowed:
            raise OcciError(501, "Not Implemented", [("Allow", ", ".join(allowed))])
        res = self.resources
        list_all, show, delete = {
            "compute": (res.list_computes, res.show_compute, res.delete_compute),
            "network": (res.list_networks, res.show_network, res.delete_network),
            "storage": (res.list_storage, res.show_storage, res.delete_storage),
        }[kind]
        if rid is None:
            if method == "GET":
                return 200, list_all(user)
            if kind == "storage":
                return self._upload(environ, user)
            if kind == "compute":
                return res.create_compute(user, self._xml(environ, ("COMPUTE",)))
            return res.create_network(user, self._xml(environ, ("NIC", "NETWORK")))
        if method == "GET":
            return 200, show(user, rid)
        if method == "PUT":
            return res.update_compute(user, rid, self._xml(environ, ("COMPUTE",)))
        return delete(user, rid)

    # -- authentication --------------------------------------------------------

    def authenticate(self, header: str) -> CloudUser:
        """§5.2: ``Basic base64(user:sha1hex(password))`` against oned's stored password."""
        scheme, _, encoded = header.strip().partition(" ")
        if scheme.lower() != "basic":
            raise unauthorized()
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized() from None
        name, sep, secret = decoded.partition(":")
        if not sep:
            raise unauthorized()
        user = self.users.get(name)
        if user is None or not hmac.compare_digest(
            secret.encode("utf-8"), user.password.encode("utf-8")
        ):
            raise unauthorized()
        return user

    # -- bodies ----------------------------------------------------------------

    def _xml(self, environ: dict[str, Any], roots: tuple[str, ...]) -> Any:
        ctype, _ = multipart.parse_options_header(environ.get("CONTENT_TYPE", "") or "")
        ctype = ctype.lower()
        if ctype not in XML_CONTENT_TYPES and not ctype.endswith("+xml"):
            raise OcciError(415, f"Unsupported content type {ctype}: send application/xml")
        data = bytearray()
        for chunk in body_chunks(environ):
            data += chunk
            if len(data) > MAX_XML:
                raise OcciError(413, f"OCCI XML larger than {MAX_XML} bytes")
        return parse(bytes(data), roots)

    def _upload(self, environ: dict[str, Any], user: CloudUser) -> tuple[int, bytes]:
        """§5.9: ``occixml`` + ``file``, the file streamed into the repository."""
        ctype, options = multipart.parse_options_header(environ.get("CONTENT_TYPE", "") or "")
        if ctype.lower() != "multipart/form-data":
            raise OcciError(415, "Image uploads must be multipart/form-data")
        boundary = options.get("boundary", "")
        if not boundary:
            raise bad_request("multipart/form-data without a boundary")
        upload: Upload | None = None
        try:
            parsed = stream_multipart(
                body_chunks(environ), boundary, lambda: self.repo.upload(owner=user.id), MAX_FIELD
            )
            upload = parsed.upload
            fields: dict[str, bytes] = {}
            for name, value in parsed.fields:
                fields.setdefault(name, value)
            if "occixml" not in fields:
                raise bad_request("OCCI XML representation of Image not present in the request")
            if upload is None:
                raise bad_request("File not present in the request")
            image_name, url = disk_metadata(parse(fields["occixml"], ("DISK",)))
            image = upload.commit(owner=user.id, name=image_name, description=url)
        except FieldTooLarge as exc:
            raise bad_request(str(exc)) from None
        except UploadTooLarge as exc:
            raise OcciError(413, exc.message) from None
        except UploadFailed as exc:
            raise OcciError(500, exc.message) from None
        except multipart.MultipartError as exc:
            raise bad_request(f"Malformed multipart body: {exc}") from None
        finally:
            if upload is not None and upload.committed is None:
                upload.abort()
        return 201, views.disk(image)
