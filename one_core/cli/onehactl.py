"""``onehactl status``: the HA group of oned sharing this oned.conf's database (docs/ha.md).

Reads the ``ha_node`` table with the ``DB`` settings of oned.conf (``--config``, else
``$ONE_LOCATION/etc/oned.conf`` or ``/etc/one/oned.conf``): who leads and since
when, and each node's last heartbeat and lag (the age of a follower's read copy
of the pools), all measured by the database server's clock.
"""

from __future__ import annotations

import sys
from datetime import datetime

import click

from one_core.errors import OneError
from one_core.ha.election import Elector, NodeRow


def _age(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}s"


def _since(when: datetime | None) -> str:
    return "-" if when is None else when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def render(rows: list[NodeRow]) -> str:
    """The status text: a summary line, then one line per node."""
    leaders = [r for r in rows if r.role == "leader"]
    if leaders:
        head = (
            f"leader: {leaders[0].node} at {leaders[0].endpoint} since {_since(leaders[0].since)}"
        )
    else:
        head = "leader: none"
    lines = [head, f"{'NODE':<16} {'ROLE':<9} {'PID':>7} {'HEARTBEAT':>10} {'LAG':>7}  ENDPOINT"]
    for r in rows:
        lag = 0.0 if r.role == "leader" else r.snapshot_age
        lines.append(
            f"{r.node:<16} {r.role:<9} {r.pid:>7} {_age(r.heartbeat_age):>10} {_age(lag):>7}"
            f"  {r.endpoint}"
        )
    return "\n".join(lines)


def read_status(config_path: str | None) -> list[NodeRow]:
    """The ``ha_node`` rows of the database oned.conf names."""
    import peewee

    from one_core import db
    from one_core.config import load_config

    cfg = load_config(config_path)
    dbobj = db.make_database(cfg.db, var_dir=cfg.var_dir)
    if not isinstance(dbobj, peewee.PostgresqlDatabase):
        raise OneError("HA needs the PostgreSQL database: oned.conf has no DB = [ backend = ... ]")
    elector = Elector(dbobj._connect, "onehactl", "")  # type: ignore[attr-defined]
    try:
        return elector.nodes()
    finally:
        elector.close()


@click.group()
def main() -> None:
    """Status of the oned HA group (docs/ha.md)."""


@main.command()
@click.option("--config", "config_path", metavar="PATH", help="oned.conf to read DB from")
def status(config_path: str | None) -> None:
    """Who leads, since when, each node's heartbeat and lag."""
    try:
        rows = read_status(config_path)
    except Exception as exc:  # no database, no table yet: one line, no traceback
        message = " ".join(str(exc).split()) or type(exc).__name__
        if "ha_node" in message and "does not exist" in message:
            message = "no HA group on this database (no oned with an HA section has started)"
        click.echo(f"Error: {message}", err=True)
        sys.exit(1)
    click.echo(render(rows))
