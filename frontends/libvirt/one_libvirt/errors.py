"""The error every layer raises when a call must fail with a libvirt error reply."""

from __future__ import annotations

from one_libvirt.protocol import ErrCode, ErrDomain


class LibvirtError(Exception):
    """Sent to the client as a ``remote_error`` (status ERROR); the server keeps serving."""

    def __init__(self, code: int, message: str, domain: int = ErrDomain.ONE):
        super().__init__(message)
        self.code = int(code)
        self.message = message
        self.domain = int(domain)

    def __str__(self) -> str:
        return self.message


class UnsupportedXML(LibvirtError):
    """Domain XML outside the supported subset (names the element or attribute)."""

    def __init__(self, message: str):
        super().__init__(ErrCode.CONFIG_UNSUPPORTED, f"unsupported configuration: {message}")


class BadXML(LibvirtError):
    """Domain XML that is not well-formed, or misses a required part."""

    def __init__(self, message: str):
        super().__init__(ErrCode.XML_ERROR, f"XML error: {message}")
