"""Request bodies of the cloud servers' WSGI apps: streamed, never read whole.

* :func:`body_chunks` — the request body in chunks, at most ``CONTENT_LENGTH``.
* :func:`stream_multipart` — a ``multipart/form-data`` body whose ``file`` part
  streams into the image repository while the other parts are collected.
* :class:`CloudApp` — what both apps hold: configuration, repository, users.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import multipart

from one_cloudkit.config import CloudConfig
from one_cloudkit.images import ImageRepository, Upload
from one_cloudkit.users import UserDirectory

CHUNK = 256 * 1024
"""Bytes read from ``wsgi.input`` at a time."""


def body_chunks(environ: dict[str, Any], size: int = CHUNK) -> Iterator[bytes]:
    """The request body in chunks of at most ``size`` bytes, up to ``CONTENT_LENGTH``."""
    stream = environ["wsgi.input"]
    length_text = environ.get("CONTENT_LENGTH") or ""
    remaining = int(length_text) if length_text.isdigit() else None
    while remaining is None or remaining > 0:
        chunk = stream.read(size if remaining is None else min(size, remaining))
        if not chunk:
            break
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


class FieldTooLarge(Exception):
    """A form field of a multipart body is over the limit (``name`` says which)."""

    def __init__(self, name: str):
        super().__init__(f"Form field {name} too large")
        self.name = name


@dataclass
class MultipartBody:
    """A parsed multipart body: its form fields in order, and the file part's upload."""

    fields: list[tuple[str, bytes]] = field(default_factory=list)
    upload: Upload | None = None


def stream_multipart(
    chunks: Iterable[bytes],
    boundary: str,
    new_upload: Callable[[], Upload],
    max_field: int,
) -> MultipartBody:
    """Parse a ``multipart/form-data`` body as it arrives.

    The first part named ``file`` is written to ``new_upload()`` chunk by chunk;
    every other part is a form field of at most ``max_field`` bytes
    (:class:`FieldTooLarge`). Errors of the repository (``UploadTooLarge``,
    ``UploadFailed``) and of the parser (``multipart.MultipartError``) propagate,
    and the upload started is then aborted.
    """
    body = MultipartBody()
    current: bytearray | None = None
    name = ""
    parser = multipart.PushMultipartParser(boundary, max_header_count=16)
    try:
        with parser:
            for chunk in chunks:
                for event in parser.parse(chunk):
                    if isinstance(event, multipart.MultipartSegment):
                        name = event.name or ""
                        if name == "file" and body.upload is None:
                            body.upload = new_upload()
                            current = None
                        else:
                            current = bytearray()
                    elif event is None:
                        if current is not None:
                            body.fields.append((name, bytes(current)))
                        current = None
                    elif current is not None:
                        if len(current) + len(event) > max_field:
                            raise FieldTooLarge(name)
                        current += event
                    elif body.upload is not None:
                        body.upload.write(event)
    except BaseException:
        if body.upload is not None:
            body.upload.abort()
        raise
    return body


class CloudApp:
    """The WSGI app of a cloud server: its configuration, image repository and oned users.

    ``repo`` and ``users`` default to what ``config`` names (tests pass their own).
    A front-end builds what it serves from them in :meth:`setup`.
    """

    def __init__(
        self,
        config: CloudConfig,
        repo: ImageRepository | None = None,
        users: UserDirectory | None = None,
    ):
        self.config = config
        self.repo = repo or config.image_repository()
        self.users = users or config.user_directory()
        self.setup()

    def setup(self) -> None:
        """Called at the end of ``__init__``: the front-end's own handlers (none here)."""
