"""``occi-storage`` (spec cloud-apis §6.2): list, create (multipart upload), show, delete.

``create`` reads the DISK file, takes ``DISK/URL`` (``scheme://rest`` gives
the local path ``/rest``, anything else is a path) and POSTs
``multipart/form-data`` with ``occixml`` = the file text and ``file`` = that
image, streamed from disk. ``delete`` sends ``DELETE /storage/<id>`` (1.4
printed ``Delete not yet implemented``; the server now implements it).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

from one_cloudkit.tools import streamed_file_part

from one_occi.tools.common import (
    OCCIClient,
    Reply,
    ToolError,
    make_command,
    read_xml_arg,
    resource_handlers,
    run,
    usage,
    xml_text,
)

TOOL = "occi-storage"
CHUNK = 1024 * 1024
USAGE = usage(
    """
occi-storage <COMMAND> [OPTIONS] [PARAMETERS]

COMMANDS

create <occi xml file>
    creates a new storage resource (uploads the image named by DISK/URL)

list
    lists available storage resources

show <storage id>
    retrieves the OCCI XML representation of the storage resource

delete <storage id>
    deletes the storage resource
""",
    multipart=True,
)


def local_path(url: str) -> str:
    """1.4: ``^\\w+://(.*)$`` → ``"/" + rest``; otherwise the URL is a path."""
    match = re.match(r"^\w+://(.*)$", url)
    return "/" + match.group(1) if match else url


def multipart_body(xml: bytes, path: Path) -> tuple[str, int, Iterator[bytes]]:
    """(content type, length, chunks) of the two-part upload, the file streamed."""
    boundary = uuid.uuid4().hex
    head = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="occixml"\r\n'
            "Content-Type: application/xml\r\n\r\n"
        ).encode()
        + xml
        + (
            f"\r\n--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
    )
    length, chunks = streamed_file_part(head, path, boundary, CHUNK)
    return f"multipart/form-data; boundary={boundary}", length, chunks


def _create(client: OCCIClient, arg: str | None) -> Reply:
    xml = read_xml_arg(arg, f"{TOOL} create: missing occi xml or file not found")
    url = xml_text(xml, "URL")
    if url is None:
        raise ToolError(f"{TOOL} create: malformed occi xml")
    image = Path(local_path(url))
    if not url or not image.is_file():
        raise ToolError(f"{TOOL} create: image file {image} not found")
    ctype, length, chunks = multipart_body(xml, image)
    return client.request(
        "POST", "/storage", chunks, {"Content-Type": ctype, "Content-Length": str(length)}
    )


COMMAND = make_command(
    TOOL,
    {**resource_handlers(TOOL, "/storage", "storage id"), "create": _create},
    multipart_flag=True,
)


def main(argv: list[str] | None = None) -> None:
    run(TOOL, COMMAND, USAGE, argv)
