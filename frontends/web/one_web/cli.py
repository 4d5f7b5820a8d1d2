"""``one-web``: serve the dashboard (uvicorn)."""

from __future__ import annotations

import os

import click
import uvicorn

from one_web.app import create_app
from one_web.settings import Settings


@click.command()
@click.option("--oned", "oned", default=None, help="oned's /RPC2/modern URL [$ONE_WEB_ONED]")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=9869, show_default=True, type=int, help="port to listen on")
@click.option("--secret-file", default=None, help="file holding the cookie signing key")
@click.option("--certfile", default=None, help="PEM certificate: serve https")
@click.option("--keyfile", default=None, help="PEM key of --certfile")
def main(
    oned: str | None,
    host: str,
    port: int,
    secret_file: str | None,
    certfile: str | None,
    keyfile: str | None,
) -> None:
    """Serve the OpenNebula-py web dashboard (docs/web.md)."""
    env_overrides: dict[str, str] = {}
    if secret_file:
        env_overrides["ONE_WEB_SECRET_FILE"] = secret_file

    settings = Settings.from_env(
        {**os.environ, **env_overrides}, oned=oned, secure_cookie=True if certfile else None
    )
    click.echo(f"one-web: http{'s' if certfile else ''}://{host}:{port}/ (oned {settings.oned})")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        log_level="warning",
    )


if __name__ == "__main__":  # pragma: no cover
    main()
