"""``<name>-server {start|stop|run}`` for the cloud servers (spec cloud-apis §1.6).

* ``start``: create ``IMAGE_DIR/tmp``, run ``python -m <module> [--config F] run``
  in the background with its output in the log file, write the pid file,
  wait a second; print ``<name> started`` or ``Error executing <cmd>.`` (exit 1).
* ``stop``: ``kill -INT`` the pid of the pid file, remove it, print
  ``<name> stopped``; without a pid file ``Couldn't find <name> process pid.``
  (exit 1).
* ``run`` (this port's addition): serve in the foreground.
* anything else: ``Usage: <name> {start|stop}`` on stderr, exit 3.

``-c/--config FILE`` reads another configuration than §1.1's. The lock-file
logic of 1.4's scripts was dead code and is dropped (§7 #43).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from one_cloudkit.config import ConfigError


@dataclass(frozen=True)
class ServerScript:
    """What differs between econe-server and occi-server.

    :param name: ``econe-server`` / ``occi-server`` (messages, pid and log names).
    :param module: the module run as ``python -m <module> ... run``.
    :param paths: ``() -> {"pid", "log", ...}`` (§1.1, read at call time).
    :param load: ``(config_path | None) -> config`` raising :class:`ConfigError`;
        the config must have an ``image_dir`` attribute.
    :param serve: ``(config) -> None``, serves in the foreground.
    """

    name: str
    module: str
    paths: Callable[[], dict[str, Path]]
    load: Callable[[str | None], Any]
    serve: Callable[[Any], None]

    def _load(self, config_path: str | None) -> Any:
        try:
            return self.load(config_path)
        except ConfigError as exc:
            print(str(exc), file=sys.stderr)
            sys.exit(1)

    def start(self, config_path: str | None) -> int:
        paths = self.paths()
        config = self._load(config_path)
        (Path(config.image_dir) / "tmp").mkdir(parents=True, exist_ok=True)
        paths["log"].parent.mkdir(parents=True, exist_ok=True)
        paths["pid"].parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", self.module]
        if config_path:
            cmd += ["--config", config_path]
        cmd.append("run")
        with open(paths["log"], "ab") as log_file:
            proc = subprocess.Popen(
                cmd,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        paths["pid"].write_text(f"{proc.pid}\n")
        time.sleep(1)
        if proc.poll() is not None:
            print(f"Error executing {' '.join(cmd)}.")
            return 1
        print(f"{self.name} started")
        return 0

    def stop(self) -> int:
        pid_file = self.paths()["pid"]
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            print(f"Couldn't find {self.name} process pid.")
            return 1
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        pid_file.unlink(missing_ok=True)
        print(f"{self.name} stopped")
        return 0

    def main(self, argv: list[str] | None = None) -> int:
        args = list(sys.argv[1:] if argv is None else argv)
        config_path: str | None = None
        if len(args) >= 2 and args[0] in ("-c", "--config"):
            config_path = args[1]
            args = args[2:]
        if len(args) != 1 or args[0] not in ("start", "stop", "run"):
            print(f"Usage: {self.name} {{start|stop}}", file=sys.stderr)
            return 3
        if args[0] == "start":
            return self.start(config_path)
        if args[0] == "stop":
            return self.stop()
        self.serve(self._load(config_path))
        return 0

    def cli(self) -> None:
        """The console-script entry point: :meth:`main` on ``sys.argv``, its status as exit."""
        sys.exit(self.main())


def serve_wsgi(
    app: Any,
    *,
    host: str,
    port: int,
    ident: str,
    max_body: int | None = None,
    threads: int = 8,
) -> None:
    """Serve ``app`` with waitress until SIGINT/SIGTERM.

    SIGINT (what ``stop`` sends, as 1.4's ``kill -INT``) is handled even when the server
    was started with it ignored — a background job of a shell script, ``nohup`` —: Python
    keeps an inherited "ignore" and would never raise KeyboardInterrupt."""
    import waitress

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        waitress.serve(
            app,
            host=host,
            port=port,
            threads=threads,
            max_request_body_size=max_body if max_body else 1 << 62,
            ident=ident,
            clear_untrusted_proxy_headers=True,
        )


SLACK = 1024 * 1024
"""Bytes of multipart framing allowed on top of MAX_UPLOAD at the HTTP layer."""


def serve_cloud_app(
    config: Any, make_app: Callable[[Any], Any], *, name: str, threads: int = 8
) -> None:
    """Serve ``make_app(config)`` on SERVER:PORT until interrupted (``name``: ``econe-server`` ...).

    Prints the configuration (PASSWORD masked) and the instance types, then
    serves; the app's image repository is closed at the end.
    """
    tmp = Path(config.image_dir) / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    # Waitress spools large bodies to temporary files: keep them on IMAGE_DIR's
    # file system, as 1.4's start script did with TMPDIR.
    tempfile.tempdir = str(tmp)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(asctime)s [%(name)s] %(message)s"
    )
    shown = {k: ("********" if k == "PASSWORD" else v) for k, v in config.values.items()}
    print(f"{name} configuration: {shown}", flush=True)
    print("Instance types:", flush=True)
    for type_name, vm_type in config.vm_types.items():
        print(f"  {type_name}: {config.template_dir / vm_type.get('TEMPLATE', '')}", flush=True)
    app = make_app(config)
    try:
        serve_wsgi(
            app,
            host=config.server,
            port=config.port,
            ident=name,
            max_body=(config.max_upload + SLACK) if config.max_upload else None,
            threads=threads,
        )
    finally:
        app.repo.close()


def cloud_server_script(name: str, module: str, config_cls: Any, app: str) -> ServerScript:
    """The :class:`ServerScript` of a cloud server.

    ``config_cls`` is a :class:`one_cloudkit.config.CloudConfig` subclass
    (``location_paths`` and ``load``); ``app`` names its WSGI application class,
    ``"package.module:Class"``, built as ``Class(config)``. The class is imported
    only when the server is served (``stop`` does not need it).
    """

    def make_app(config: Any) -> Any:
        app_module, _, app_class = app.partition(":")
        return getattr(importlib.import_module(app_module), app_class)(config)

    def serve(config: Any, *, threads: int = 8) -> None:
        serve_cloud_app(config, make_app, name=name, threads=threads)

    return ServerScript(
        name=name,
        module=module,
        paths=config_cls.location_paths,
        load=lambda path: config_cls.load(path),
        serve=serve,
    )
