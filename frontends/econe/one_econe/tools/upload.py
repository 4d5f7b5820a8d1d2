"""econe-upload: UploadImage, the 1.4 multipart extension (spec cloud-apis §3.4, §4.2).

The signed fields come first, then the file part ``file``; the file is
streamed from disk in chunks with a precomputed Content-Length (never read
into memory). ``-M`` is accepted for compatibility (1.4: use multipart-post
instead of curb); there is one implementation.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import click
from one_cloudkit.tools import streamed_file_part

from one_econe.tools.common import (
    Connect,
    EC2QueryClient,
    ToolError,
    error_message,
    parse_answer,
    run,
    tool_command,
    usage,
)

MULTIPART_HELP = """--multipart, -M:
   Use 'multipart-post' library instead of Curb/Curl
"""

USAGE = usage(
    "econe-upload",
    "Uploads an image for use with an OpenNebula Cloud. This image should\n"
    "be later register with econe-register using the returned ImageId",
    "IMAGE-PATH",
    options=(MULTIPART_HELP,),
    footer="IMAGE-PATH: Path to the image to upload\n",
)

UPLOAD_VERSION = "2008-12-01"
CHUNK = 1024 * 1024


def _field(boundary: str, name: str, value: str) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


def multipart_body(
    fields: dict[str, str], path: Path, boundary: str
) -> tuple[int, Iterator[bytes]]:
    """``(Content-Length, chunks)`` of the multipart body: fields, then the ``file`` part."""
    head = b"".join(_field(boundary, k, v) for k, v in fields.items())
    filename = str(path).replace('"', "%22").replace("\r", "").replace("\n", "")
    head += (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return streamed_file_part(head, path, boundary, CHUNK)


def upload(client: EC2QueryClient, path: Path) -> str:
    """Send the image; returns the new ImageId."""
    data = client.signed_params("UploadImage", {}, version=UPLOAD_VERSION)
    boundary = "econe-" + uuid.uuid4().hex
    length, body = multipart_body(data, path, boundary)
    status, answer = client.send(
        body,
        {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
            "User-Agent": "one-econe",
        },
    )
    if status != 200:
        raise ToolError(error_message(answer))
    return parse_answer(status, answer).findtext("imageId") or ""


@tool_command()
@click.option("-M", "--multipart", "use_multipart", is_flag=True)
@click.argument("image_path", required=False)
def command(
    connect: Connect,
    use_multipart: bool,
    image_path: str | None,
) -> None:
    if not image_path or not Path(image_path).is_file():
        raise ToolError("missing IMAGE-PATH parameter or file not found")
    client = connect()
    image_id = upload(client, Path(image_path))
    click.echo(f"Success: ImageId {image_id}")


def main() -> None:
    run("econe-upload", command, USAGE)
