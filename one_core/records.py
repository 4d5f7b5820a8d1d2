"""Read-only views of core objects handed to drivers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from one_core.vm.paths import remote_checkpoint, remote_disk, remote_images_dir

if TYPE_CHECKING:
    from one_core.template import Template


@dataclass(frozen=True, slots=True)
class VMRecord:
    """A VM as a virtualization driver sees it when rendering a deployment file.

    Paths are those of ``spec/lifecycle-and-drivers.md`` §2.3, as seen from
    the host (``vm_dir`` is the host's ``VM_DIR``): disk ``i`` of the template
    is ``<images_dir>/disk.<i>``, the context CD-ROM is the disk after the last
    DISK.
    """

    vid: int
    uid: int
    name: str
    template: Template
    host: str
    vm_dir: str
    seq: int = 0
    deploy_id: str = ""

    @property
    def images_dir(self) -> str:
        return remote_images_dir(self.vm_dir, self.vid)

    @property
    def checkpoint(self) -> str:
        return remote_checkpoint(self.vm_dir, self.vid)

    def disk_path(self, index: int) -> str:
        return remote_disk(self.vm_dir, self.vid, index)
