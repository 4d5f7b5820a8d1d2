"""``onedrivers``: list the installed drivers, or check that an oned.conf's drivers load."""

from __future__ import annotations

import sys

import click

from one_core.drivers import list_installed
from one_core.errors import OneError


def check(config_path: str | None) -> str:
    """Load every driver ``config_path`` names, as oned does at start-up; return a report.

    Raises :class:`~one_core.errors.OneError` with oned's start-up message on
    the first problem.
    """
    from one_core.config import load_config
    from one_core.drivers import load_drivers

    cfg = load_config(config_path)
    drivers = load_drivers(cfg)
    lines = []
    for (role, name), driver in drivers.drivers.items():
        hooks = [h for h in driver.pm.hook.__dict__ if driver.implements(h)]
        lines.append(f"{role:<6} {name:<16} {driver.spec.driver:<12} {' '.join(sorted(hooks))}")
    return "\n".join(lines)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--check",
    "check_config",
    metavar="ONED_CONF",
    help="Load and validate every driver this oned.conf names, as oned does at start-up.",
)
def main(check_config: str | None) -> None:
    """List the installed drivers of each role (entry-point groups one.im, one.vmm, ...)."""
    if check_config is None:
        click.echo(list_installed())
        return
    try:
        click.echo(check(check_config))
    except OneError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
