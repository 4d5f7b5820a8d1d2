"""What the occi-* tools share (spec cloud-apis §6.1).

* ``occi-<kind> <COMMAND> [OPTIONS] [ARGUMENTS]``; options anywhere; the
  command word is case-insensitive.
* ``-U/--username`` and ``-P/--password`` (both, else ``$ONE_AUTH`` or
  ``$HOME/.one/one_auth``, split at the first ``:``, §7 #27); the password is
  sent as HTTP Basic ``user:sha1hex(password)`` on every request.
* ``-R/--url``, else ``OCCI_URL``, else ``http://localhost:4567``; https
  without a certificate check, as 1.4.
* ``-D/--debug`` prints the request line and the response status on stderr;
  ``-M/--multipart`` is accepted by occi-storage (one upload path here).
* ``-h/--help``: the usage text, exit 255 (§7 #26).
* Output: the response body as it is (a 204 prints an empty line).
  Connection refused prints ``Error connecting to server (<text>).Server: <host>:<port>``.
* Exit status (docs/decisions/occi.md): 0 for a 2xx answer; **1** for an HTTP
  error answer or a connection failure; 255 for errors before any request.
  ``--exit-zero`` (or ``OCCI_EXIT_ZERO=yes``) restores 1.4's 0 for every answer.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click
import defusedxml.ElementTree as DET
from one_cloudkit.tools import ToolError, connection, one_auth_text, run_tool, split_auth

DEFAULT_URL = "http://localhost:4567"


@dataclass
class Reply:
    status: int
    body: bytes


def credentials(user: str | None, password: str | None, env: dict[str, str]) -> tuple[str, str]:
    """``(user, password)`` from the flags or the ONE_AUTH file."""
    if user and password:
        return user, password
    return split_auth(one_auth_text(env))


class OCCIClient:
    """HTTP to occi-server with pre-emptive Basic ``user:sha1hex(password)``."""

    def __init__(self, url: str, user: str, password: str, debug: bool = False):
        split = urlsplit(url)
        if split.scheme not in ("http", "https") or not split.hostname:
            raise ToolError(f"bad URI(is not URI?): {url}")
        self.split = split
        self.prefix = split.path.rstrip("/")
        token = f"{user}:{hashlib.sha1(password.encode('utf-8')).hexdigest()}"
        self.auth = "Basic " + base64.b64encode(token.encode("utf-8")).decode("ascii")
        self.debug = debug

    @property
    def server(self) -> str:
        port = self.split.port or (443 if self.split.scheme == "https" else 80)
        return f"{self.split.hostname}:{port}"

    def _connection(self) -> http.client.HTTPConnection:
        return connection(self.split)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = {"Authorization": self.auth, "User-Agent": "one-occi"}
        all_headers.update(headers or {})
        if self.debug:
            print(f"> {method} {self.prefix}{path}", file=sys.stderr)
        conn = self._connection()
        try:
            conn.request(method, self.prefix + path, body=body, headers=all_headers)
            resp = conn.getresponse()
            reply = Reply(resp.status, resp.read())
        except ConnectionRefusedError as exc:
            raise ConnectionFailed(
                f"Error connecting to server ({exc.strerror or exc}).Server: {self.server}"
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise ConnectionFailed(
                f"Error connecting to server ({exc}).Server: {self.server}"
            ) from None
        finally:
            conn.close()
        if self.debug:
            print(f"< {reply.status}", file=sys.stderr)
        return reply

    def xml(self, method: str, path: str, body: bytes) -> Reply:
        return self.request(method, path, body, {"Content-Type": "application/xml"})


class ConnectionFailed(Exception):
    """The server could not be reached: printed like 1.4, exit 1."""


def read_file_arg(path: str | None) -> bytes | None:
    if not path or not Path(path).is_file():
        return None
    return Path(path).read_bytes()


def read_xml_arg(path: str | None, missing: str) -> bytes:
    """The bytes of the OCCI-XML file ``path``; no such file raises ``missing``."""
    body = read_file_arg(path)
    if body is None:
        raise ToolError(missing)
    return body


def xml_text(body: bytes, tag: str) -> str | None:
    """The stripped text of the root's child ``tag`` (``""`` if absent); None if malformed."""
    try:
        return (DET.fromstring(body).findtext(tag) or "").strip()
    except Exception:
        return None


def make_command(
    tool: str,
    commands: dict[str, Callable[[OCCIClient, str | None], Reply]],
    *,
    multipart_flag: bool = False,
) -> click.Command:
    """The click command of one tool: ``COMMAND [ARG]`` with the common options."""

    @click.command(context_settings={"help_option_names": [], "ignore_unknown_options": False})
    @click.argument("command", required=False)
    @click.argument("argument", required=False)
    @click.option("-U", "--username", "username")
    @click.option("-P", "--password", "password")
    @click.option("-R", "--url", "url")
    @click.option("-D", "--debug", "debug", is_flag=True)
    @click.option("--exit-zero", "exit_zero", is_flag=True)
    @click.option("-M", "--multipart", "multipart", is_flag=True, hidden=not multipart_flag)
    def command(
        command: str | None,
        argument: str | None,
        username: str | None,
        password: str | None,
        url: str | None,
        debug: bool,
        exit_zero: bool,
        multipart: bool,
    ) -> None:
        env = dict(os.environ)
        if multipart and not multipart_flag:
            raise click.UsageError("unrecognized option `--multipart'")
        if command is None:
            raise ToolError(f"{tool}: [COMMAND] not present\n{tool}: Execute {tool} -h for help.")
        handler = commands.get(command.lower())
        if handler is None:
            raise ToolError(f"Command {command} not valid.")
        try:
            user, secret = credentials(username, password, env)
        except ToolError as exc:
            raise ToolError(f"{tool}: {exc}") from None
        client = OCCIClient(url or env.get("OCCI_URL") or DEFAULT_URL, user, secret, debug)
        exit_zero = exit_zero or env.get("OCCI_EXIT_ZERO", "").lower() in ("1", "yes", "true")
        try:
            reply = handler(client, argument)
        except ConnectionFailed as exc:
            print(str(exc))
            sys.exit(0 if exit_zero else 1)
        sys.stdout.write(reply.body.decode("utf-8", "replace").rstrip("\n") + "\n")
        sys.stdout.flush()
        sys.exit(0 if exit_zero or 200 <= reply.status < 300 else 1)

    return command


def run(tool: str, command: click.Command, usage: str, argv: list[str] | None = None) -> None:
    """Run a tool: ``-h`` prints ``usage`` and exits 255; pre-request errors exit 255."""
    run_tool(tool, command, usage, argv, prefix_errors=False)


_OPTIONS = """
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
"""
_MULTIPART_OPTION = """
--multipart, -M:
    Accepted for 1.4 compatibility (there is one upload method)
"""
_EXIT_ZERO_OPTION = """
--exit-zero
    Exit 0 whatever the server answers (1.4's behaviour); also OCCI_EXIT_ZERO=yes
"""


def usage(commands: str, *, multipart: bool = False) -> str:
    """A tool's ``-h`` text: ``commands`` (its synopsis and COMMANDS), then the options."""
    return commands + _OPTIONS + (_MULTIPART_OPTION if multipart else "") + _EXIT_ZERO_OPTION


Handler = Callable[[OCCIClient, str | None], Reply]


def list_handler(path: str) -> Handler:
    """``list``: ``GET <path>``."""

    def handler(client: OCCIClient, _arg: str | None) -> Reply:
        return client.request("GET", path)

    return handler


def id_handler(method: str, path: str, missing: str) -> Handler:
    """``show``/``delete``: ``<method> <path>/<id>``; no id raises ``missing``."""

    def handler(client: OCCIClient, arg: str | None) -> Reply:
        if not arg:
            raise ToolError(missing)
        return client.request(method, f"{path}/{arg}")

    return handler


def create_handler(path: str, missing: str) -> Handler:
    """``create``: POST the OCCI-XML file to ``path``; no readable file raises ``missing``."""

    def handler(client: OCCIClient, arg: str | None) -> Reply:
        return client.xml("POST", path, read_xml_arg(arg, missing))

    return handler


def resource_handlers(tool: str, path: str, id_name: str) -> dict[str, Handler]:
    """``list``, ``create``, ``show`` and ``delete`` of the collection at ``path``.

    A missing argument reads ``<tool> create: missing OCCI-XML or file not found``
    or ``<tool> show: missing <id_name> parameter`` (likewise ``delete``), 1.4's
    words; a tool replaces the handlers whose behaviour or wording differs.
    """
    return {
        "list": list_handler(path),
        "create": create_handler(path, f"{tool} create: missing OCCI-XML or file not found"),
        "show": id_handler("GET", path, f"{tool} show: missing {id_name} parameter"),
        "delete": id_handler("DELETE", path, f"{tool} delete: missing {id_name} parameter"),
    }
