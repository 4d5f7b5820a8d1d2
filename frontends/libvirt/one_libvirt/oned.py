"""The seam to oned: the few XML-RPC calls the frontend makes.

Everything goes through :class:`one_core.client.Client`; its errors become
:class:`LibvirtError` here so the layers above see one error type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar
from xml.etree.ElementTree import Element

from one_core.api import Client, OneCallError, OneClientError, OneTransportError
from one_libvirt.errors import LibvirtError
from one_libvirt.protocol import ErrCode

T = TypeVar("T")


class Oned(Protocol):
    """What the domain service needs from oned."""

    def allocate(self, template: str) -> int: ...

    def action(self, action: str, vid: int) -> None: ...

    def info(self, vid: int) -> Element: ...

    def pool(self) -> list[Element]: ...

    def hosts(self) -> list[Element]: ...

    def vnets(self) -> list[Element]: ...

    def vnet(self, nid: int) -> Element: ...


class ClientOned:
    """:class:`Oned` over the XML-RPC client, as one OpenNebula user."""

    def __init__(self, client: Client, pool_filter: int = -1):
        self.client = client
        self.pool_filter = pool_filter

    def _call(self, func: Callable[..., T], *args: object) -> T:
        """``func(*args)``, its OpenNebula client errors turned into :class:`LibvirtError`."""
        try:
            return func(*args)
        except OneCallError as exc:
            raise LibvirtError(ErrCode.OPERATION_FAILED, f"OpenNebula: {exc}") from None
        except OneTransportError as exc:
            raise LibvirtError(
                ErrCode.INTERNAL_ERROR, f"cannot reach oned at {self.client.endpoint}: {exc}"
            ) from None
        except OneClientError as exc:
            raise LibvirtError(ErrCode.INTERNAL_ERROR, f"OpenNebula: {exc}") from None

    def _doc(self, func: Callable[..., Element | str], *args: object) -> Element:
        """An oned document, parsed: only a ``raw`` client returns the text, and the frontend
        builds every client with the default ``raw=False`` (cli.py)."""
        doc = self._call(func, *args)
        assert not isinstance(doc, str), "ClientOned needs a Client without raw=True"
        return doc

    def allocate(self, template: str) -> int:
        return int(self._call(self.client.vm_allocate, template))

    def action(self, action: str, vid: int) -> None:
        self._call(self.client.vm_action, action, vid)

    def info(self, vid: int) -> Element:
        return self._doc(self.client.vm_info, vid)

    def pool(self) -> list[Element]:
        return list(self._doc(self.client.vmpool_info, self.pool_filter).findall("VM"))

    def hosts(self) -> list[Element]:
        return list(self._doc(self.client.hostpool_info).findall("HOST"))

    def vnets(self) -> list[Element]:
        """The virtual networks the user may use (``one.vnpool.info`` -2)."""
        return list(self._doc(self.client.vnpool_info, -2).findall("VNET"))

    def vnet(self, nid: int) -> Element:
        return self._doc(self.client.vn_info, nid)
