"""The per-connection session, the procedure registry, and the connection procedures.

One function per REMOTE procedure: decode the args, act, encode the ret.

Each handler gets the connection's :class:`Session` and an :class:`Unpacker`
over the call payload and returns the reply payload. Argument layouts are the
``remote_*_args`` / ``remote_*_ret`` structs of remote_protocol.x.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from one_libvirt.domains import Domains, Vm
from one_libvirt.errors import LibvirtError
from one_libvirt.protocol import (
    AuthType,
    ErrCode,
    ErrDomain,
    Proc,
    WireDomain,
)
from one_libvirt.xdr import Packer, Unpacker

if TYPE_CHECKING:
    from one_libvirt.events import EventHub

HV_TYPE = "ONE"
HV_VERSION = 1_004_000  # OpenNebula 1.4.0 in libvirt's major*1e6 + minor*1e3 + micro
LIB_VERSION = 9_000_000  # the libvirt protocol level we answer as (9.0.0)
URI = "one:///"


@dataclass(eq=False)
class Session:
    """Per-connection state."""

    user_domains: Domains | None
    """The domains as the connection's OpenNebula user; None until a SASL login supplies
    the user (read them through :attr:`domains`)."""
    secure: bool = False
    login: Callable[[str, str], Domains] | None = None
    """Set when the connection must authenticate with SASL PLAIN (user, password → Domains)."""
    opened: bool = False
    open_check: Callable[[], None] | None = None
    closing: bool = False
    extra: dict[str, object] = field(default_factory=dict)
    events: EventHub | None = None
    """The server's event poller (shared by all sessions)."""
    event_ids: set[int] = field(default_factory=set)
    """virDomainEventID values this client registered for."""
    send_message: Callable[[int, bytes], bool] | None = None
    """Sends a MESSAGE packet (an event) of the given procedure to this client."""

    @property
    def authenticated(self) -> bool:
        """Whether the connection acts as an OpenNebula user (SASL login done, or not needed)."""
        return self.user_domains is not None

    @property
    def domains(self) -> Domains:
        """The user's domains, for every procedure outside :data:`AUTH_PROCS` (``dispatch``
        refuses those before authentication, with this same error)."""
        if self.user_domains is None:
            raise authentication_required()
        return self.user_domains


def authentication_required() -> LibvirtError:
    """The error of a call that needs an OpenNebula user before the SASL login."""
    return LibvirtError(ErrCode.AUTH_FAILED, "authentication required", ErrDomain.RPC)


Handler = Callable[[Session, Unpacker], bytes]
HANDLERS: dict[int, Handler] = {}
AUTH_PROCS = {
    Proc.AUTH_LIST,
    Proc.AUTH_SASL_INIT,
    Proc.AUTH_SASL_START,
    Proc.AUTH_SASL_STEP,
    Proc.CONNECT_CLOSE,
}
"""Allowed before the connection is authenticated."""
BEFORE_OPEN = AUTH_PROCS | {Proc.CONNECT_SUPPORTS_FEATURE, Proc.CONNECT_OPEN}
"""Allowed before CONNECT_OPEN."""


def handles(*procs: Proc) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for proc in procs:
            HANDLERS[int(proc)] = func
        return func

    return register


def dom_arg(
    s: Session, u: Unpacker, with_flags: bool = False, *, flags_optional: bool = False
) -> Vm:
    """The domain argument (then a ``flags`` word if ``with_flags``, or if ``flags_optional`` and
    the payload has one: one handler serving both a procedure and its ``_FLAGS`` variant).
    """
    dom = WireDomain.unpack(u)
    if with_flags or (flags_optional and u.remaining):
        u.uint()
    u.done()
    return s.domains.resolve(dom)


def ret_dom(vm: Vm) -> bytes:
    return vm.wire().pack(Packer()).bytes()


def ret_int(value: int) -> bytes:
    return Packer().int(value).bytes()


# -- connection ------------------------------------------------------------------


@handles(Proc.AUTH_LIST)
def auth_list(s: Session, u: Unpacker) -> bytes:
    u.done()
    kind = AuthType.SASL if s.login is not None else AuthType.NONE
    return Packer().uint(1).int(kind).bytes()


@handles(Proc.CONNECT_SUPPORTS_FEATURE)
def supports_feature(s: Session, u: Unpacker) -> bytes:
    u.int()
    u.done()
    return ret_int(0)  # no keepalive, no migration, no event callbacks


@handles(Proc.CONNECT_OPEN)
def connect_open(s: Session, u: Unpacker) -> bytes:
    s.extra["name"] = u.optional_string()
    s.extra["flags"] = u.uint()
    u.done()
    if s.open_check is not None:
        s.open_check()
    s.opened = True
    return b""


@handles(Proc.CONNECT_CLOSE)
def connect_close(s: Session, u: Unpacker) -> bytes:
    u.done()
    s.closing = True
    return b""


@handles(Proc.CONNECT_IS_SECURE)
def is_secure(s: Session, u: Unpacker) -> bytes:
    u.done()
    return ret_int(1 if s.secure else 0)


CAPABILITIES = """<capabilities>
  <host>
    <uuid>4f4e4500-0000-4000-8000-ffffffffffff</uuid>
    <cpu>
      <arch>x86_64</arch>
    </cpu>
  </host>
  <guest>
    <os_type>hvm</os_type>
    <arch name='x86_64'>
      <domain type='one'/>
    </arch>
  </guest>
</capabilities>
"""


CONSTANT_REPLIES: dict[Proc, Callable[[], Packer]] = {
    Proc.CONNECT_GET_TYPE: lambda: Packer().string(HV_TYPE),
    Proc.CONNECT_GET_VERSION: lambda: Packer().uhyper(HV_VERSION),
    Proc.CONNECT_GET_LIB_VERSION: lambda: Packer().uhyper(LIB_VERSION),
    Proc.CONNECT_GET_HOSTNAME: lambda: Packer().string(socket.gethostname()),
    Proc.CONNECT_GET_URI: lambda: Packer().string(URI),
    Proc.CONNECT_GET_CAPABILITIES: lambda: Packer().string(CAPABILITIES),
}
"""The procedures without arguments whose reply does not depend on the connection."""


def _constant_handler(reply: Callable[[], Packer]) -> Handler:
    def handler(s: Session, u: Unpacker) -> bytes:
        u.done()
        return reply().bytes()

    return handler


for _proc, _reply in CONSTANT_REPLIES.items():
    handles(_proc)(_constant_handler(_reply))


@handles(Proc.CONNECT_GET_MAX_VCPUS)
def get_max_vcpus(s: Session, u: Unpacker) -> bytes:
    u.optional_string()
    u.done()
    return ret_int(1024)
