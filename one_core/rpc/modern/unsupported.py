"""Object families of current OpenNebula that this server does not have.

Every ``one.<family>.<method>`` of these answers ``[False, "[name] <Objects> are not
supported by this server", 0x1000]`` (pyone: ``OneApiException``), never a fault.
"""

from __future__ import annotations

from one_core.rpc.modern.api import REGISTRY

FAMILIES: dict[str, str] = {
    "datastore": "Datastores",
    "datastorepool": "Datastores",
    "image": "Images",
    "imagepool": "Images",
    "template": "VM templates",
    "templatepool": "VM templates",
    "cluster": "Clusters",
    "clusterpool": "Clusters",
    "group": "Groups",
    "grouppool": "Groups",
    "groupquota": "Groups",
    "acl": "ACLs",
    "zone": "Zones",
    "zonepool": "Zones",
    "secgroup": "Security groups",
    "secgrouppool": "Security groups",
    "vdc": "VDCs",
    "vdcpool": "VDCs",
    "vrouter": "Virtual routers",
    "vrouterpool": "Virtual routers",
    "market": "Marketplaces",
    "marketpool": "Marketplaces",
    "marketapp": "Marketplace apps",
    "marketapppool": "Marketplace apps",
    "vmgroup": "VM groups",
    "vmgrouppool": "VM groups",
    "document": "Documents",
    "documentpool": "Documents",
    "hook": "Hooks",
    "hookpool": "Hooks",
    "hooklog": "Hooks",
    "backupjob": "Backup jobs",
    "backupjobpool": "Backup jobs",
    "vntemplate": "Virtual network templates",
    "vntemplatepool": "Virtual network templates",
}
"""``one.<family>.*`` → what the error message calls them."""

for _family, _what in FAMILIES.items():
    REGISTRY.refuse_family(_family, _what)
