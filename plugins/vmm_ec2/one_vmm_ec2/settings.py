"""The EC2 driver's settings and its boto3 client.

A setting comes from the driver's oned.conf section, else from a single
attribute of its defaults file, else from the environment::

    VM_MAD = [ name = "ec2", executable = "one_vmm_ec2", default = "vmm_ec2/vmm_ec2.conf",
               type = "xml",
               ec2_url = "https://ec2.eu-west-1.amazonaws.com",  # or endpoint_url; env EC2_URL
               region = "eu-west-1",          # env AWS_REGION / AWS_DEFAULT_REGION; else us-east-1
               aws_access_key_id = "...",     # else boto3's usual chain (env, ~/.aws, role)
               aws_secret_access_key = "...",
               security_group = "",           # fixed group for AUTHORIZEDPORTS (1.4: "default")
               max_attempts = "5",            # attempts per API call (throttling retried with back-off)
               eip_wait = "300",              # seconds to wait for "running" before the EIP
               timeout = "60" ]               # seconds per API call (connect and read)

Credentials are best left to boto3's chain (environment, ``~/.aws``,
instance role) rather than written into oned.conf.
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from one_driverkit.settings import DriverSettings, cached, defaults_in_force, load_defaults_file

from one_core.api import DriverError

if TYPE_CHECKING:
    from one_core.api import DriverContext

PACKAGED_DEFAULTS = os.path.join(os.path.dirname(__file__), "vmm_ec2.conf")

DEFAULT_REGION = "us-east-1"

DEFAULTS: dict[str, str] = {"MAX_ATTEMPTS": "5", "EIP_WAIT": "300", "TIMEOUT": "60"}

_LOCK = threading.Lock()


packaged_defaults = functools.partial(load_defaults_file, PACKAGED_DEFAULTS)
"""The shipped ``vmm_ec2.conf`` (``EC2 = [ INSTANCETYPE = m1.small ]``, as 1.4 shipped)."""


defaults_of = functools.partial(defaults_in_force, packaged=PACKAGED_DEFAULTS)
"""The defaults in force: the configured file's, else the packaged one's. (``defaults_of(ctx)``)"""


@dataclass(frozen=True)
class Ec2Settings:
    """The effective settings of one driver instance (see the module docstring)."""

    endpoint_url: str | None = None
    region: str = DEFAULT_REGION
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    security_group: str = ""
    max_attempts: int = 5
    eip_wait: float = 300.0
    timeout: float = 60.0

    @classmethod
    def from_context(cls, ctx: DriverContext) -> Ec2Settings:
        s = DriverSettings(ctx, DEFAULTS, PACKAGED_DEFAULTS, label="EC2", blank_is_set=False)
        return cls(
            endpoint_url=s.get("EC2_URL", "ENDPOINT_URL", env=("EC2_URL",)) or None,
            region=s.get(
                "REGION", "EC2_REGION", "AWS_REGION", env=("AWS_REGION", "AWS_DEFAULT_REGION")
            )
            or DEFAULT_REGION,
            access_key_id=s.get("AWS_ACCESS_KEY_ID", "ACCESS_KEY_ID") or None,
            secret_access_key=s.get("AWS_SECRET_ACCESS_KEY", "SECRET_ACCESS_KEY") or None,
            session_token=s.get("AWS_SESSION_TOKEN", "SESSION_TOKEN") or None,
            security_group=s.get("SECURITY_GROUP"),
            max_attempts=max(int(s.number("MAX_ATTEMPTS")), 1),
            eip_wait=s.number("EIP_WAIT", minimum=0.0),
            timeout=s.number("TIMEOUT", minimum=1.0),
        )

    def client(self) -> Any:
        """A new boto3 EC2 client for these settings (throttling retried with back-off)."""
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=self.region,
        )
        config = Config(
            retries={"total_max_attempts": self.max_attempts, "mode": "standard"},
            connect_timeout=self.timeout,
            read_timeout=self.timeout,
        )
        return session.client("ec2", endpoint_url=self.endpoint_url, config=config)


def settings(ctx: DriverContext) -> Ec2Settings:
    """The driver's settings, read once per context."""
    return cached(ctx, "ec2_settings", lambda: Ec2Settings.from_context(ctx))


def client(ctx: DriverContext) -> Any:
    """The driver's boto3 client, created once per context (boto3 clients are thread-safe)."""
    with _LOCK:
        found = ctx.state.get("ec2_client")
        if found is None:
            try:
                found = settings(ctx).client()
            except DriverError:
                raise
            except Exception as exc:  # partial credentials, a malformed endpoint URL...
                raise DriverError(f"EC2 client setup failed: {exc}") from exc
            ctx.state["ec2_client"] = found
        return found
