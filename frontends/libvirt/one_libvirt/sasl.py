"""SASL PLAIN on local (UNIX socket) connections: each connection logs in as its own
OpenNebula user.

libvirt's client accepts a mechanism without a security layer (PLAIN) only on a
channel it considers secure (UNIX socket, TLS); on plain TCP it demands SSF ≥ 56,
so PLAIN is offered on the UNIX socket only (``docs/decisions/libvirt.md``).
"""

from __future__ import annotations

from one_libvirt.errors import LibvirtError
from one_libvirt.handlers import Session, handles
from one_libvirt.protocol import ErrCode, Proc
from one_libvirt.xdr import Packer, Unpacker

SASL_DATA_MAX = 65536
MECHANISMS = "PLAIN"


def _char_array(u: Unpacker) -> bytes:
    """``char data<REMOTE_AUTH_SASL_DATA_MAX>``: one 4-byte XDR unit per char (rpcgen)."""
    return u.char_array(SASL_DATA_MAX)


def _ret(complete: bool) -> bytes:
    return Packer().int(1 if complete else 0).int(0).char_array(b"", SASL_DATA_MAX).bytes()


def _require_sasl(s: Session) -> None:
    if s.login is None:
        raise LibvirtError(ErrCode.AUTH_FAILED, "authentication failed: SASL is not offered here")


def parse_plain(data: bytes) -> tuple[str, str]:
    """RFC 4616 ``[authzid] NUL authcid NUL passwd`` → (user, password)."""
    parts = data.split(b"\0")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise LibvirtError(ErrCode.AUTH_FAILED, "authentication failed: malformed PLAIN response")
    authzid, authcid, passwd = (p.decode("utf-8", "replace") for p in parts)
    if authzid and authzid != authcid:
        raise LibvirtError(
            ErrCode.AUTH_FAILED, "authentication failed: authorization id not allowed"
        )
    return authcid, passwd


def _login(s: Session, data: bytes) -> bytes:
    assert s.login is not None
    user, password = parse_plain(data)
    domains = s.login(user, password)
    try:
        domains.oned.pool()
    except LibvirtError as exc:
        raise LibvirtError(ErrCode.AUTH_FAILED, f"authentication failed: {exc}") from None
    s.user_domains = domains
    return _ret(True)


@handles(Proc.AUTH_SASL_INIT)
def sasl_init(s: Session, u: Unpacker) -> bytes:
    u.done()
    _require_sasl(s)
    return Packer().string(MECHANISMS).bytes()


@handles(Proc.AUTH_SASL_START)
def sasl_start(s: Session, u: Unpacker) -> bytes:
    mech = u.string(64)
    nil = u.int()
    data = _char_array(u)
    u.done()
    _require_sasl(s)
    if mech != "PLAIN":
        raise LibvirtError(
            ErrCode.AUTH_FAILED, f"authentication failed: unsupported mechanism {mech}"
        )
    if nil:  # no initial response: ask for it with an empty challenge
        s.extra["sasl_pending"] = True
        return _ret(False)
    return _login(s, data)


@handles(Proc.AUTH_SASL_STEP)
def sasl_step(s: Session, u: Unpacker) -> bytes:
    u.int()
    data = _char_array(u)
    u.done()
    _require_sasl(s)
    if not s.extra.pop("sasl_pending", False):
        raise LibvirtError(
            ErrCode.AUTH_FAILED, "authentication failed: no SASL exchange in progress"
        )
    return _login(s, data)
