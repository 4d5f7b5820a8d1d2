"""What the econe-* tools share (spec cloud-apis §4.1).

* Options ``-K/--access-key``, ``-S/--secret-key``, ``-U/--url``, ``-H/--headers``
  and ``-h/--help`` (prints the tool's usage block and exits 255, as 1.4).
* Credentials: ``-K`` and ``-S`` together, else ``EC2_ACCESS_KEY`` and
  ``EC2_SECRET_KEY`` together, else ``$ONE_AUTH`` (a non-empty regular file)
  or ``$HOME/.one/one_auth``, ``user:password`` split at the first ``:``
  (1.4 split at every ``:``, §7 #27). The signing secret is ``sha1hex(password)``.
* Endpoint: ``-U``, else ``EC2_URL``, else ``http://localhost:4567``.
* Requests are signed with botocore's :class:`botocore.auth.SigV2Auth`
  (HMAC-SHA256, host:port), which econe-server accepts next to 1.4's
  HMAC-SHA1 form.
* Any failure prints ``<tool>: <message>`` and exits 255; success exits 0.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import click
import defusedxml.ElementTree as DET
from botocore.auth import SigV2Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from one_cloudkit.tools import ToolError, connection, one_auth_text, run_tool, split_auth

DEFAULT_URL = "http://localhost:4567"
API_VERSION = "2009-11-30"
"""The Version the amazon-ec2 gem 0.7.8-0.9.x sent (the server ignores it)."""


@dataclass(frozen=True)
class Credentials14:
    access_key: str
    password: str

    @property
    def secret(self) -> str:
        """The signing key: ``sha1hex(password)``, the user's stored password string."""
        return hashlib.sha1(self.password.encode("utf-8")).hexdigest()


def credentials(
    access_key: str | None, secret_key: str | None, env: dict[str, str] | None = None
) -> Credentials14:
    """1.4's order: flags, EC2_ACCESS_KEY/EC2_SECRET_KEY, ONE_AUTH file."""
    env = dict(os.environ if env is None else env)
    if access_key and secret_key:
        text = f"{access_key}:{secret_key}"
    elif env.get("EC2_ACCESS_KEY") and env.get("EC2_SECRET_KEY"):
        text = f"{env['EC2_ACCESS_KEY']}:{env['EC2_SECRET_KEY']}"
    else:
        text = one_auth_text(env)
    return Credentials14(*split_auth(text))


def endpoint(url: str | None, env: dict[str, str] | None = None) -> str:
    env = dict(os.environ if env is None else env)
    return url or env.get("EC2_URL") or DEFAULT_URL


class EC2QueryClient:
    """Signs and sends EC2 Query requests; returns the parsed response root."""

    def __init__(self, creds: Credentials14, url: str, timeout: float = 600.0):
        split = urlsplit(url)
        if split.scheme not in ("http", "https") or not split.hostname:
            raise ToolError(f"bad URI(is not URI?): {url}")
        self.url = f"{split.scheme}://{split.netloc}{split.path or '/'}"
        self.split = urlsplit(self.url)
        self.creds = creds
        self.timeout = timeout
        self.signer = SigV2Auth(Credentials(creds.access_key, creds.secret))

    def signed_params(
        self, action: str, params: dict[str, str], version: str = API_VERSION
    ) -> dict[str, str]:
        """``params`` plus Action, Version and the SigV2 fields, signed by botocore."""
        data = {k: v for k, v in params.items() if v not in (None, "")}
        data.update(Action=action, Version=version)
        request = AWSRequest(method="POST", url=self.url, data=data)
        self.signer.add_auth(request)
        return dict(request.data)

    def _connection(self) -> http.client.HTTPConnection:
        return connection(self.split, self.timeout)

    def send(self, body: bytes | Iterable[bytes], headers: dict[str, str]) -> tuple[int, bytes]:
        conn = self._connection()
        try:
            conn.request("POST", self.split.path or "/", body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except ConnectionRefusedError:
            raise ToolError("Connection refused - connect(2)") from None
        except (OSError, http.client.HTTPException) as exc:
            raise ToolError(str(exc) or type(exc).__name__) from None
        finally:
            conn.close()

    def call(self, action: str, params: dict[str, str] | None = None) -> Element:
        """POST a signed form request; the response root, or :class:`ToolError`."""
        data = self.signed_params(action, dict(params or {}))
        prepared = AWSRequest(method="POST", url=self.url, data=data).prepare()
        body = prepared.body if isinstance(prepared.body, bytes) else str(prepared.body).encode()
        status, answer = self.send(
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "one-econe",
            },
        )
        return parse_answer(status, answer)


def strip_ns(root: Element) -> Element:
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
    return root


def error_message(body: bytes) -> str:
    """``Response/Errors/Error/Message`` of an EC2 error document, else the body as text."""
    try:
        root = strip_ns(DET.fromstring(body))
    except Exception:
        return body.decode("utf-8", "replace").strip()
    message = root.findtext(".//Error/Message")
    return message if message is not None else body.decode("utf-8", "replace").strip()


def parse_answer(status: int, body: bytes) -> Element:
    if not 200 <= status < 300:
        raise ToolError(error_message(body) or f"HTTP {status}")
    try:
        return strip_ns(DET.fromstring(body))
    except Exception as exc:
        raise ToolError(f"Malformed response: {exc}") from None


# -- command-line plumbing ------------------------------------------------------


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``-K``, ``-S`` and ``-U`` (every tool; ``-h`` is handled by :func:`run`)."""
    for decorator in reversed(
        [
            click.option("-K", "--access-key", "access_key"),
            click.option("-S", "--secret-key", "secret_key"),
            click.option("-U", "--url", "url"),
        ]
    ):
        func = decorator(func)
    return func


def headers_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("-H", "--headers", "headers", is_flag=True)(func)


Connect = Callable[[], EC2QueryClient]
"""What a tool's command gets in place of ``-K``/``-S``/``-U``: builds the client when called."""


def tool_command(headers: bool = False) -> Callable[[Callable[..., Any]], click.Command]:
    """A tool's click command with the common options (and ``-H`` when ``headers``).

    The decorated function takes a :data:`Connect` first, then its own parameters;
    it calls it once its arguments are checked, so a missing operand is reported
    before a missing credential or a bad URL (1.4's order).
    """

    def decorate(func: Callable[..., Any]) -> click.Command:
        @functools.wraps(func)
        def with_connect(
            access_key: str | None, secret_key: str | None, url: str | None, **kwargs: Any
        ) -> Any:
            return func(lambda: client_from(access_key, secret_key, url), **kwargs)

        wrapped = common_options(headers_option(with_connect) if headers else with_connect)
        return click.command(context_settings=context_settings())(wrapped)

    return decorate


def client_from(access_key: str | None, secret_key: str | None, url: str | None) -> EC2QueryClient:
    return EC2QueryClient(credentials(access_key, secret_key), endpoint(url))


def run(name: str, command: click.Command, usage: str, argv: list[str] | None = None) -> None:
    """Run ``command`` with 1.4's exits: 0 on success, 255 on any error (and for ``-h``)."""
    run_tool(name, command, usage, argv, prefix_errors=True)


def context_settings() -> dict[str, Any]:
    return {"help_option_names": [], "ignore_unknown_options": False}


# -- usage text and output ---------------------------------------------------------

COMMON_OPTIONS_HELP = """-h, --help:
   show help

--access-key <id>, -K <id>
   The username of the user

--secret-key <key>, -S <key>
   The password of the user

--url <url>, -U <url>
   Set url as the web service url to use
"""
"""The usage lines of the options every tool takes (1.4's wording)."""

HEADERS_HELP = """--headers, -H
   Display column headers
"""

IMAGE_ID_HELP = """IMAGE-ID: The image identification as returned by
the econe-upload command
"""


def usage(
    tool: str,
    synopsis: str,
    operand: str = "",
    options: tuple[str, ...] = (),
    headers: bool = False,
    footer: str = "",
) -> str:
    """A tool's ``-h`` text in 1.4's layout: synopsis, usage line, options, operand note.

    ``options`` are the tool's own option blocks; ``headers`` adds ``-H`` after them.
    """
    blocks = [COMMON_OPTIONS_HELP, *options]
    if headers:
        blocks.append(HEADERS_HELP)
    if footer:
        blocks.append(footer)
    line = f"{tool} <OPTIONS> {operand}" if operand else f"{tool} <OPTIONS>"
    return f"\n== Synopsis\n{tool}\n\n{synopsis}\n\n== Usage\n\n{line}\n\n" + "\n".join(blocks)


def fields(item: Element, *paths: str) -> tuple[str, ...]:
    """The text at each of ``paths`` below ``item`` ("" where missing)."""
    return tuple(item.findtext(path) or "" for path in paths)


def echo_table(
    fmt: str,
    titles: tuple[str, ...],
    rule: int,
    rows: Iterable[tuple[str, ...]],
    headers: bool,
) -> None:
    """Print ``rows`` through ``fmt``; with ``headers``, the titles and a rule first."""
    if headers:
        click.echo(fmt % titles)
        click.echo("-" * rule)
    for row in rows:
        click.echo(fmt % row)
