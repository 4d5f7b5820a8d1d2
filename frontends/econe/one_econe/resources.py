"""Key pairs, tags and the fixed account resources (region, zone, instance types, group).

* Key pairs are per user in econe's store; CreateKeyPair generates the pair and
  returns the private key once (only the public key is kept); RunInstances
  with ``KeyName`` puts the public key in the VM's ``CONTEXT/SSH_KEY``.
* Tags are on instances only (``i-N``/``N``), stored in econe's store by VM id.
* One region (econe.conf ``REGION``, default ``opennebula``), one availability
  zone ``default`` (1.4's placement), the instance types of ``VM_TYPE``, and the
  single security group ``default`` (OpenNebula 1.4 has no firewall rules).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from one_econe import keys, params, views
from one_econe.config import EconeConfig
from one_econe.documents import document, key_pair_item, returns_true
from one_econe.errors import EC2Error, bad_request
from one_econe.instances import InstanceLookup
from one_econe.store import EconeStore, KeyPairRecord
from one_econe.users import CloudUser

GROUP_ID = "sg-default"
_CAPACITY_RE = re.compile(r"^\s*(VCPU|CPU|MEMORY)\s*=\s*\"?([0-9.]+)", re.IGNORECASE | re.MULTILINE)


def check_tags(tags: Iterable[tuple[str, str | None]]) -> None:
    """AWS's tag rules: key 1-128 characters not starting with ``aws:``, value ≤ 256."""
    for key, value in tags:
        if not 1 <= len(key) <= 128:
            raise bad_request(f"Tag key '{key}' must be 1 to 128 characters long")
        if key.lower().startswith("aws:"):
            raise bad_request("Tag keys starting with 'aws:' are reserved for internal use")
        if value is not None and len(value) > 256:
            raise bad_request(f"The value of tag '{key}' is longer than 256 characters")


def _select(
    items: list[Any],
    p: Mapping[str, str],
    fields: Mapping[str, Callable[[Any], list[str]]],
    tags: bool = False,
    tag_of: Callable[[Any], Mapping[str, str]] | None = None,
) -> list[Any]:
    """``items`` that pass the request's filters over ``fields`` (and ``tag:<key>``)."""
    flts = params.filters(p, fields, tags=tags)
    kept = []
    for item in items:
        ok = True
        for flt in flts:
            if flt.name.startswith("tag:") and tag_of is not None:
                mapping = tag_of(item)
                values = [mapping[flt.name[4:]]] if flt.name[4:] in mapping else []
            else:
                values = fields[flt.name](item)
            if not flt.matches(values):
                ok = False
                break
        if ok:
            kept.append(item)
    return kept


def _by_name(
    wanted: list[str], known: Mapping[str, Any], error: Callable[[str], EC2Error]
) -> list[Any]:
    for name in wanted:
        if name not in known:
            raise error(name)
    return [known[name] for name in wanted] if wanted else list(known.values())


class ResourceActions:
    """Key pair, tag, region, zone, instance type and security group actions."""

    def __init__(
        self,
        config: EconeConfig,
        store: EconeStore,
        lookup: Callable[[CloudUser], InstanceLookup],
    ):
        self.config = config
        self.store = store
        self.lookup = lookup
        self.handlers = {
            "CreateKeyPair": self.create_key_pair,
            "ImportKeyPair": self.import_key_pair,
            "DescribeKeyPairs": self.describe_key_pairs,
            "DeleteKeyPair": self.delete_key_pair,
            "CreateTags": self.create_tags,
            "DeleteTags": self.delete_tags,
            "DescribeTags": self.describe_tags,
            "DescribeRegions": self.describe_regions,
            "DescribeAvailabilityZones": self.describe_availability_zones,
            "DescribeInstanceTypes": self.describe_instance_types,
            "DescribeSecurityGroups": self.describe_security_groups,
        }

    @property
    def region(self) -> str:
        return str(self.config.values.get("REGION") or "opennebula")

    # -- key pairs ---------------------------------------------------------------

    def _store_key(self, user: CloudUser, name: str, material: keys.KeyMaterial) -> KeyPairRecord:
        record = self.store.add_key_pair(
            user.id, name, material.fingerprint, material.key_type, material.public_openssh
        )
        if record is None:
            raise EC2Error(400, "InvalidKeyPair.Duplicate", f"The keypair '{name}' already exists.")
        return record

    def create_key_pair(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """A new pair (``KeyType`` rsa or ed25519, ``KeyFormat`` pem); the private key once."""
        params.check_known(p, params.pattern("KeyName", "KeyType", "KeyFormat"))
        name = keys.check_name(_required(p, "KeyName"))
        if p.get("KeyFormat", "pem") != "pem":
            raise bad_request(f"Key format '{p['KeyFormat']}' is not supported: use pem")
        if self.store.key_pair(user.id, name) is not None:
            raise EC2Error(400, "InvalidKeyPair.Duplicate", f"The keypair '{name}' already exists.")
        material = keys.generate(p.get("KeyType", "rsa"))
        record = self._store_key(user, name, material)
        body = key_pair_item(name, record.key_pair_id, record.fingerprint, record.key_type)
        body["keyMaterial"] = material.private_pem
        return document("CreateKeyPairResponse", rid, body)

    def import_key_pair(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """Store a public key (OpenSSH or PEM, base64 in ``PublicKeyMaterial``)."""
        params.check_known(p, params.pattern("KeyName", "PublicKeyMaterial"))
        name = keys.check_name(_required(p, "KeyName"))
        material = keys.load_public(_required(p, "PublicKeyMaterial"))
        record = self._store_key(user, name, material)
        body = key_pair_item(name, record.key_pair_id, record.fingerprint, record.key_type)
        return document("ImportKeyPairResponse", rid, body)

    def describe_key_pairs(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """The caller's key pairs by ``KeyName.N`` / ``KeyPairId.N`` / filters."""
        params.check_known(
            p, params.pattern("KeyName.N", "KeyPairId.N", "IncludePublicKey", *params.FILTERS)
        )
        include_public = params.boolean(p, "IncludePublicKey")
        records = self.store.key_pairs(user.id)

        def missing(name: str) -> EC2Error:
            return EC2Error(400, "InvalidKeyPair.NotFound", f"The key pair '{name}' does not exist")

        records = _by_name(params.indexed(p, "KeyName"), {r.name: r for r in records}, missing)
        records = _by_name(
            params.indexed(p, "KeyPairId"), {r.key_pair_id: r for r in records}, missing
        )
        fields: dict[str, Callable[[KeyPairRecord], list[str]]] = {
            "key-name": lambda r: [r.name],
            "key-pair-id": lambda r: [r.key_pair_id],
            "fingerprint": lambda r: [r.fingerprint],
            "key-type": lambda r: [r.key_type],
        }
        items = []
        for r in _select(records, p, fields):
            item = key_pair_item(r.name, r.key_pair_id, r.fingerprint, r.key_type)
            item["createTime"] = r.created
            if include_public:
                item["publicKey"] = r.public_key
            items.append(item)
        return document("DescribeKeyPairsResponse", rid, {"keySet": items})

    def delete_key_pair(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """Delete by ``KeyName`` or ``KeyPairId``; deleting an unknown name succeeds (AWS)."""
        params.check_known(p, params.pattern("KeyName", "KeyPairId"))
        if "KeyPairId" in p:
            by_id = {r.key_pair_id: r for r in self.store.key_pairs(user.id)}
            if p["KeyPairId"] not in by_id:
                raise EC2Error(
                    400,
                    "InvalidKeyPair.NotFound",
                    f"The key pair '{p['KeyPairId']}' does not exist",
                )
            self.store.delete_key_pair(user.id, by_id[p["KeyPairId"]].name)
        else:
            self.store.delete_key_pair(user.id, _required(p, "KeyName"))
        return returns_true("DeleteKeyPairResponse", rid)

    # -- tags -------------------------------------------------------------------------

    def _tag_targets(self, user: CloudUser, p: Mapping[str, str]) -> list[int]:
        raws = params.indexed(p, "ResourceId")
        if not raws:
            raise EC2Error(
                400, "MissingParameter", "The request must contain the parameter ResourceId"
            )
        for raw in raws:
            if raw.startswith("ami-"):
                raise bad_request(f"Tagging '{raw}' is not supported: only instances have tags")
        return [inst.vid for inst in self.lookup(user).get_all(raws)]

    def create_tags(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """Add/overwrite ``Tag.N`` on every ``ResourceId.N`` (the caller's instances)."""
        params.check_known(p, params.pattern("ResourceId.N", "Tag.N.Key", "Tag.N.Value"))
        tags = params.tag_list(p)
        if not tags:
            raise EC2Error(400, "MissingParameter", "The request must contain the parameter Tag")
        check_tags(tags)
        vids = self._tag_targets(user, p)
        self.store.set_tags(vids, [(k, v or "") for k, v in tags])
        return returns_true("CreateTagsResponse", rid)

    def delete_tags(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """Remove ``Tag.N`` (all tags when none is given; with a value only if it matches)."""
        params.check_known(p, params.pattern("ResourceId.N", "Tag.N.Key", "Tag.N.Value"))
        tags = params.tag_list(p)
        vids = self._tag_targets(user, p)
        self.store.delete_tags(vids, tags)
        return returns_true("DeleteTagsResponse", rid)

    def describe_tags(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """Tags of the caller's instances; filters key, value, resource-id, resource-type."""
        params.check_known(p, params.pattern(*params.FILTERS, *params.PAGING))
        instances = self.lookup(user).visible()
        rows = [
            (inst.vid, key, value) for inst in instances for key, value in sorted(inst.tags.items())
        ]
        fields: dict[str, Callable[[tuple[int, str, str]], list[str]]] = {
            "key": lambda r: [r[1]],
            "value": lambda r: [r[2]],
            "resource-id": lambda r: [str(r[0]), f"i-{r[0]}"],
            "resource-type": lambda r: ["instance"],
        }
        rows = _select(rows, p, fields)
        page, token = params.page(rows, p)
        items = [
            {"resourceId": vid, "resourceType": "instance", "key": key, "value": value}
            for vid, key, value in page
        ]
        body: dict[str, Any] = {"tagSet": items}
        if token:
            body["nextToken"] = token
        return document("DescribeTagsResponse", rid, body)

    # -- region, zone, types, group -------------------------------------------------

    def describe_regions(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """The one region; an unknown ``RegionName.N`` is ``InvalidParameterValue``."""
        params.check_known(p, params.pattern("RegionName.N", "AllRegions", *params.FILTERS))
        params.boolean(p, "AllRegions")
        region = {
            "regionName": self.region,
            "regionEndpoint": self.config.signature_host,
            "optInStatus": "opt-in-not-required",
        }
        regions = _by_name(
            params.indexed(p, "RegionName"),
            {self.region: region},
            lambda n: bad_request(f"Invalid region: {n}"),
        )
        fields = {
            "region-name": lambda r: [r["regionName"]],
            "endpoint": lambda r: [r["regionEndpoint"]],
            "opt-in-status": lambda r: [r["optInStatus"]],
        }
        return document("DescribeRegionsResponse", rid, {"regionInfo": _select(regions, p, fields)})

    def describe_availability_zones(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """The zone ``default`` (every instance's placement)."""
        params.check_known(
            p, params.pattern("ZoneName.N", "ZoneId.N", "AllAvailabilityZones", *params.FILTERS)
        )
        params.boolean(p, "AllAvailabilityZones")
        zone: dict[str, Any] = {
            "zoneName": views.ZONE,
            "zoneId": f"{self.region}-{views.ZONE}",
            "zoneState": "available",
            "regionName": self.region,
            "zoneType": "availability-zone",
            "optInStatus": "opt-in-not-required",
            "messageSet": [],
        }

        def invalid(name: str) -> EC2Error:
            return bad_request(f"Invalid availability zone: [{name}]")

        zones = _by_name(params.indexed(p, "ZoneName"), {views.ZONE: zone}, invalid)
        zones = _by_name(params.indexed(p, "ZoneId"), {zone["zoneId"]: zone}, invalid)
        fields = {
            "zone-name": lambda z: [z["zoneName"]],
            "zone-id": lambda z: [z["zoneId"]],
            "region-name": lambda z: [z["regionName"]],
            "state": lambda z: [z["zoneState"]],
            "zone-type": lambda z: [z["zoneType"]],
        }
        body = {"availabilityZoneInfo": _select(zones, p, fields)}
        return document("DescribeAvailabilityZonesResponse", rid, body)

    def _type_info(self, name: str, entry: Mapping[str, str]) -> dict[str, Any]:
        """``VM_TYPE`` → instanceType item; vCPUs and MiB read from the template's
        ``VCPU``/``CPU`` and ``MEMORY`` lines (0 when the template does not say)."""
        path = self.config.template_dir / entry.get("TEMPLATE", "")
        try:
            text = path.read_text()
        except OSError:
            text = ""
        found = {k.upper(): v for k, v in _CAPACITY_RE.findall(text)}
        cpu = found.get("VCPU") or found.get("CPU") or "0"
        vcpus = max(1, int(float(cpu) + 0.999)) if float(cpu) > 0 else 0
        return {
            "instanceType": name,
            "currentGeneration": True,
            "freeTierEligible": False,
            "supportedUsageClasses": ["on-demand"],
            "supportedRootDeviceTypes": ["instance-store"],
            "bareMetal": False,
            "hypervisor": "xen",
            "vCpuInfo": {"defaultVCpus": vcpus},
            "memoryInfo": {"sizeInMiB": int(float(found.get("MEMORY", "0")))},
            "instanceStorageSupported": True,
        }

    def describe_instance_types(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """econe.conf's ``VM_TYPE`` entries; an unknown ``InstanceType.N`` is an error."""
        params.check_known(p, params.pattern("InstanceType.N", *params.FILTERS, *params.PAGING))
        known = {n: self._type_info(n, e) for n, e in self.config.vm_types.items()}
        types = _by_name(
            params.indexed(p, "InstanceType"),
            known,
            lambda n: bad_request(
                f"The following supplied instance types do not exist: [{n}]",
                "InvalidInstanceType",
            ),
        )
        fields = {
            "instance-type": lambda t: [t["instanceType"]],
            "vcpu-info.default-vcpus": lambda t: [str(t["vCpuInfo"]["defaultVCpus"])],
            "memory-info.size-in-mib": lambda t: [str(t["memoryInfo"]["sizeInMiB"])],
        }
        page, token = params.page(_select(types, p, fields), p, default_max=100)
        body: dict[str, Any] = {"instanceTypeSet": page}
        if token:
            body["nextToken"] = token
        return document("DescribeInstanceTypesResponse", rid, body)

    def describe_security_groups(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """The single group ``default`` (``sg-default``), no rules."""
        params.check_known(
            p, params.pattern("GroupName.N", "GroupId.N", *params.FILTERS, *params.PAGING)
        )
        group = {
            "ownerId": user.name,
            "groupName": "default",
            "groupId": GROUP_ID,
            "groupDescription": "default group",
            "ipPermissions": [],
            "ipPermissionsEgress": [],
        }

        def missing(name: str) -> EC2Error:
            return EC2Error(
                400, "InvalidGroup.NotFound", f"The security group '{name}' does not exist"
            )

        groups = _by_name(params.indexed(p, "GroupName"), {"default": group}, missing)
        groups = _by_name(params.indexed(p, "GroupId"), {GROUP_ID: group}, missing)
        fields = {
            "group-name": lambda g: [g["groupName"]],
            "group-id": lambda g: [g["groupId"]],
            "description": lambda g: [g["groupDescription"]],
            "owner-id": lambda g: [g["ownerId"]],
        }
        page, token = params.page(_select(groups, p, fields), p)
        body: dict[str, Any] = {"securityGroupInfo": page}
        if token:
            body["nextToken"] = token
        return document("DescribeSecurityGroupsResponse", rid, body)


def _required(p: Mapping[str, str], name: str) -> str:
    value = p.get(name, "")
    if not value:
        raise EC2Error(400, "MissingParameter", f"The request must contain the parameter {name}")
    return value
