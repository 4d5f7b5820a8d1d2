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
import ssl
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click

DEFAULT_URL = "http://localhost:4567"


class ToolError(Exception):
    """A failure before any request: printed, exit 255."""


@dataclass
class Reply:
    status: int
    body: bytes


def credentials(user: str | None, password: str | None, env: dict[str, str]) -> tuple[str, str]:
    """``(user, password)`` from the flags or the ONE_AUTH file."""
    if user and password:
        return user, password
    one_auth = env.get("ONE_AUTH", "")
    path = Path(one_auth) if one_auth and Path(one_auth).is_file() else None
    if path is None:
        path = Path(env.get("HOME", "")) / ".one" / "one_auth"
    try:
        text = path.read_text().strip()
    except OSError:
        raise ToolError("No authorization data present") from None
    name, sep, secret = text.partition(":")
    if not sep or not name or not secret:
        raise ToolError("Authorization data malformed")
    return name, secret


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
        host = self.split.hostname or "localhost"
        if self.split.scheme == "https":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # 1.4: no certificate check
            return http.client.HTTPSConnection(host, self.split.port or 443, context=ctx)
        return http.client.HTTPConnection(host, self.split.port or 80)

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
    args = list(sys.argv[1:] if argv is None else argv)
    if "-h" in args or "--help" in args:
        print(usage.strip("\n"))
        sys.exit(255)
    try:
        command.main(args=args, prog_name=tool, standalone_mode=False)
    except click.ClickException as exc:
        print(f"{tool}: {exc.format_message()}", file=sys.stderr)
        sys.exit(255)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        sys.exit(255)
    except ToolError as exc:
        print(str(exc))
        sys.exit(255)
    sys.exit(0)
