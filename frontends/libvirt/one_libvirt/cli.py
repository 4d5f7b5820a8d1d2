"""``one-libvirtd``: serve libvirt clients (virsh, libvirt-python) for an OpenNebula user.

    one-libvirtd [--listen 127.0.0.1] [--port 16509] [--no-tcp] [--unix PATH]
                 [--endpoint URL] [--auth FILE] [--pool-filter N] [--sasl]
                 [--event-interval SECONDS] [--debug]

Credentials: the file given by ``--auth``, else ``$ONE_AUTH``, else
``~/.one/one_auth`` (``user:password``), exactly as the CLI reads them.
With ``--sasl``, UNIX-socket clients log in with SASL PLAIN as their own
OpenNebula user instead (TCP clients still act as the daemon's user).
Endpoint: ``--endpoint``, else ``$ONE_XMLRPC``, else ``http://localhost:2633/RPC2``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from one_core.api import Client, OneClientError, read_one_auth
from one_libvirt.domains import Domains
from one_libvirt.oned import ClientOned
from one_libvirt.server import Servers, TCPServer, UnixServer, session_factory_for

DEFAULT_PORT = 16509


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="one-libvirtd", description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", default="127.0.0.1", help="TCP address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (default 16509)")
    p.add_argument("--no-tcp", action="store_true", help="do not listen on TCP")
    p.add_argument("--unix", metavar="PATH", help="also listen on this UNIX socket (mode 0600)")
    p.add_argument("--endpoint", help="oned XML-RPC endpoint")
    p.add_argument("--auth", metavar="FILE", help="credentials file (user:password)")
    p.add_argument(
        "--pool-filter", type=int, default=-1, help="one.vmpool.info filter (-1 mine, -2 all)"
    )
    p.add_argument(
        "--sasl",
        action="store_true",
        help="UNIX-socket clients log in as their own OpenNebula user (SASL PLAIN)",
    )
    p.add_argument(
        "--event-interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how often oned's VM pool is read for domain events while a client listens "
        "(default 1)",
    )
    p.add_argument("--debug", action="store_true")
    return p


def make_client(args: argparse.Namespace) -> Client:
    secret = Path(args.auth).read_text() if args.auth else read_one_auth()
    return Client(secret, endpoint=args.endpoint)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s one-libvirtd %(levelname)s %(message)s",
    )
    try:
        make_client(args)
    except (OSError, OneClientError) as exc:
        print(f"one-libvirtd: {exc}", file=sys.stderr)
        return 1
    if args.no_tcp and not args.unix:
        print("one-libvirtd: nothing to listen on (--no-tcp without --unix)", file=sys.stderr)
        return 2

    def make_domains() -> Domains:
        return Domains(ClientOned(make_client(args), args.pool_filter))

    def login(user: str, password: str) -> Domains:
        client = Client(f"{user}:{password}", endpoint=args.endpoint)
        return Domains(ClientOned(client, args.pool_filter))

    if args.event_interval <= 0:
        print("one-libvirtd: --event-interval must be positive", file=sys.stderr)
        return 2
    factory = session_factory_for(
        make_domains, login=login if args.sasl else None, event_interval=args.event_interval
    )
    servers = Servers()
    try:
        if not args.no_tcp:
            tcp = servers.add(TCPServer((args.listen, args.port), factory))
            logging.info("listening on tcp %s:%d", *tcp.server_address[:2])
        if args.unix:
            servers.add(UnixServer(args.unix, factory))
            logging.info("listening on unix %s", args.unix)
    except OSError as exc:
        print(f"one-libvirtd: {exc}", file=sys.stderr)
        servers.shutdown()
        return 1
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    servers.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
