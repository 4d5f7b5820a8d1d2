"""What the econe-* and occi-* command-line tools share (spec cloud-apis §4.1, §6.1).

* :class:`ToolError`: a failure before (or instead of) a usable answer, exit 255.
* :func:`one_auth`: ``$ONE_AUTH`` (a regular file) or ``$HOME/.one/one_auth``,
  ``user:password`` split at the first ``:`` (1.4 split at every ``:``, §7 #27).
* :func:`connection`: HTTP(S) to the server, https without a certificate check (1.4).
* :func:`streamed_file_part`: a multipart body ending with a file streamed from disk.
* :func:`run_tool`: ``-h`` prints the usage and exits 255 (§7 #26); errors exit 255.
"""

from __future__ import annotations

import http.client
import os
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult

import click


class ToolError(Exception):
    """A failure reported on stdout (``<tool>: `` first for econe-*), exit 255."""


def split_auth(text: str) -> tuple[str, str]:
    """``user:password`` split at the first ``:``; both parts must be non-empty."""
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise ToolError("Authorization data malformed")
    return user, password


def one_auth_text(env: dict[str, str]) -> str:
    """The text of ``$ONE_AUTH`` if it is a file, else of ``$HOME/.one/one_auth``."""
    one_auth = env.get("ONE_AUTH", "")
    path = Path(one_auth) if one_auth and Path(one_auth).is_file() else None
    if path is None:
        path = Path(env.get("HOME", "")) / ".one" / "one_auth"
    try:
        return path.read_text().strip()
    except OSError:
        raise ToolError("No authorization data present") from None


def connection(split: SplitResult, timeout: float | None = None) -> http.client.HTTPConnection:
    """A connection to ``split``'s host and port (https: no certificate check, as 1.4)."""
    host = split.hostname or "localhost"
    kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    if split.scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # 1.4: no certificate check
        return http.client.HTTPSConnection(host, split.port or 443, context=ctx, **kwargs)
    return http.client.HTTPConnection(host, split.port or 80, **kwargs)


def run_tool(
    name: str,
    command: click.Command,
    usage: str,
    argv: list[str] | None = None,
    *,
    prefix_errors: bool,
) -> None:
    """Run ``command``: 0 on success, 255 on any error and for ``-h`` (1.4's exits).

    A :class:`ToolError` is printed on stdout, as ``<name>: <message>`` when
    ``prefix_errors`` (econe-*) and as is otherwise (occi-*).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if "-h" in args or "--help" in args:
        print(usage.strip("\n"))
        sys.exit(255)
    try:
        command.main(args=args, prog_name=name, standalone_mode=False)
    except click.ClickException as exc:
        print(f"{name}: {exc.format_message()}", file=sys.stderr)
        sys.exit(255)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        sys.exit(255)
    except ToolError as exc:
        print(f"{name}: {exc}" if prefix_errors else str(exc))
        sys.exit(255)
    sys.exit(0)


def streamed_file_part(
    head: bytes, path: Path, boundary: str, chunk: int = 1024 * 1024
) -> tuple[int, Iterator[bytes]]:
    """``(Content-Length, chunks)``: ``head`` (up to the file part's headers), the
    file ``path`` read ``chunk`` bytes at a time, then the closing ``boundary``."""
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = os.path.getsize(path)

    def chunks() -> Iterator[bytes]:
        yield head
        with open(path, "rb") as f:
            while block := f.read(chunk):
                yield block
        yield tail

    return len(head) + size + len(tail), chunks()
