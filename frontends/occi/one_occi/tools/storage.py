"""``occi-storage`` (spec cloud-apis §6.2): list, create (multipart upload), show, delete.

``create`` reads the DISK file, takes ``DISK/URL`` (``scheme://rest`` gives
the local path ``/rest``, anything else is a path) and POSTs
``multipart/form-data`` with ``occixml`` = the file text and ``file`` = that
image, streamed from disk. ``delete`` sends ``DELETE /storage/<id>`` (1.4
printed ``Delete not yet implemented``; the server now implements it).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import defusedxml.ElementTree as DET

from one_occi.tools.common import OCCIClient, Reply, ToolError, make_command, read_file_arg, run

TOOL = "occi-storage"
CHUNK = 1024 * 1024
USAGE = """
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

OPTIONS

-h, --help:
    show help

--username <id>, -U <id>:
    The username of the user

--password <key>, -P <key>:
    The password of the user

--url <url>, -R <url>:
    Set url as the web service url to use

--debug, -D
    Enables verbosity

--multipart, -M:
    Accepted for 1.4 compatibility (there is one upload method)

--exit-zero
    Exit 0 whatever the server answers (1.4's behaviour); also OCCI_EXIT_ZERO=yes
"""


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
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = os.path.getsize(path)

    def chunks() -> Iterator[bytes]:
        yield head
        with open(path, "rb") as f:
            while block := f.read(CHUNK):
                yield block
        yield tail

    return f"multipart/form-data; boundary={boundary}", len(head) + size + len(tail), chunks()


def _list(client: OCCIClient, _arg: str | None) -> Reply:
    return client.request("GET", "/storage")


def _create(client: OCCIClient, arg: str | None) -> Reply:
    xml = read_file_arg(arg)
    if xml is None:
        raise ToolError(f"{TOOL} create: missing occi xml or file not found")
    try:
        url = (DET.fromstring(xml).findtext("URL") or "").strip()
    except Exception:
        raise ToolError(f"{TOOL} create: malformed occi xml") from None
    image = Path(local_path(url))
    if not url or not image.is_file():
        raise ToolError(f"{TOOL} create: image file {image} not found")
    ctype, length, chunks = multipart_body(xml, image)
    return client.request(
        "POST", "/storage", chunks, {"Content-Type": ctype, "Content-Length": str(length)}
    )


def _show(client: OCCIClient, arg: str | None) -> Reply:
    if not arg:
        raise ToolError(f"{TOOL} show: missing storage id parameter")
    return client.request("GET", f"/storage/{arg}")


def _delete(client: OCCIClient, arg: str | None) -> Reply:
    if not arg:
        raise ToolError(f"{TOOL} delete: missing storage id parameter")
    return client.request("DELETE", f"/storage/{arg}")


COMMAND = make_command(
    TOOL,
    {"list": _list, "create": _create, "show": _show, "delete": _delete},
    multipart_flag=True,
)


def main(argv: list[str] | None = None) -> None:
    run(TOOL, COMMAND, USAGE, argv)
