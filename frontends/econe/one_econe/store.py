"""econe's own records next to the image repository: key pairs, instance tags, run tokens.

OpenNebula 1.4 has no ``one.vm.update`` and no user attributes, so what EC2
keeps per user or per instance lives in econe's database (econe.conf's
``DATABASE``, the image repository's handle): tables ``econe_key_pairs``,
``econe_tags`` (keyed by VM id) and ``econe_run_tokens`` (RunInstances'
``ClientToken`` idempotency).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import peewee


@dataclass(frozen=True)
class KeyPairRecord:
    owner: int
    name: str
    key_pair_id: str
    fingerprint: str
    key_type: str
    public_key: str
    created: str


def _models(db: peewee.Database) -> tuple[Any, Any, Any]:
    class Base(peewee.Model):
        class Meta:
            database = db

    class KeyPair(Base):
        owner = peewee.IntegerField()
        name = peewee.CharField(max_length=255)
        fingerprint = peewee.CharField(max_length=255)
        key_type = peewee.CharField(max_length=16)
        public_key = peewee.TextField()
        created = peewee.CharField(max_length=32)

        class Meta:
            table_name = "econe_key_pairs"
            indexes = ((("owner", "name"), True),)

    class Tag(Base):
        vid = peewee.IntegerField()
        key = peewee.CharField(max_length=128)
        value = peewee.CharField(max_length=256)

        class Meta:
            table_name = "econe_tags"
            indexes = ((("vid", "key"), True),)

    class RunToken(Base):
        owner = peewee.IntegerField()
        token = peewee.CharField(max_length=64)
        vids = peewee.TextField()

        class Meta:
            table_name = "econe_run_tokens"
            indexes = ((("owner", "token"), True),)

    return KeyPair, Tag, RunToken


def _key_record(row: Any) -> KeyPairRecord:
    return KeyPairRecord(
        owner=row.owner,
        name=row.name,
        key_pair_id=f"key-{row.id:017x}",
        fingerprint=row.fingerprint,
        key_type=row.key_type,
        public_key=row.public_key,
        created=row.created,
    )


class EconeStore:
    """Key pairs per user, tags per VM id and run tokens, on ``db`` (tables made if missing)."""

    def __init__(self, db: peewee.Database):
        self.db = db
        self.KeyPair, self.Tag, self.RunToken = _models(db)
        db.connect(reuse_if_open=True)
        db.create_tables([self.KeyPair, self.Tag, self.RunToken], safe=True)

    # -- key pairs ---------------------------------------------------------------

    def key_pairs(self, owner: int) -> list[KeyPairRecord]:
        query = self.KeyPair.select().where(self.KeyPair.owner == owner).order_by(self.KeyPair.id)
        return [_key_record(row) for row in query]

    def key_pair(self, owner: int, name: str) -> KeyPairRecord | None:
        row = self.KeyPair.get_or_none((self.KeyPair.owner == owner) & (self.KeyPair.name == name))
        return _key_record(row) if row is not None else None

    def add_key_pair(
        self, owner: int, name: str, fingerprint: str, key_type: str, public_key: str
    ) -> KeyPairRecord | None:
        """The new record, or ``None`` if ``owner`` already has a key pair ``name``."""
        created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        try:
            with self.db.atomic():
                self.KeyPair.create(
                    owner=owner,
                    name=name,
                    fingerprint=fingerprint,
                    key_type=key_type,
                    public_key=public_key,
                    created=created,
                )
        except peewee.IntegrityError:
            return None
        return self.key_pair(owner, name)

    def delete_key_pair(self, owner: int, name: str) -> None:
        self.KeyPair.delete().where(
            (self.KeyPair.owner == owner) & (self.KeyPair.name == name)
        ).execute()

    # -- tags ----------------------------------------------------------------------

    def tags(self, vids: list[int] | None = None) -> dict[int, dict[str, str]]:
        """``{vid: {key: value}}`` for ``vids`` (all VMs when ``None``)."""
        query = self.Tag.select().order_by(self.Tag.vid, self.Tag.key)
        if vids is not None:
            query = query.where(self.Tag.vid.in_(vids))
        result: dict[int, dict[str, str]] = {}
        for row in query:
            result.setdefault(row.vid, {})[row.key] = row.value
        return result

    def set_tags(self, vids: list[int], tags: list[tuple[str, str]]) -> None:
        """Add or overwrite ``tags`` on every VM of ``vids``, in one transaction."""
        with self.db.atomic():
            for vid in vids:
                for key, value in tags:
                    self.Tag.insert(vid=vid, key=key, value=value).on_conflict(
                        conflict_target=[self.Tag.vid, self.Tag.key],
                        update={self.Tag.value: value},
                    ).execute()

    def delete_tags(self, vids: list[int], tags: list[tuple[str, str | None]]) -> None:
        """Remove ``tags`` (all when empty; a pair with a value only if the value matches)."""
        with self.db.atomic():
            for vid in vids:
                where = self.Tag.vid == vid
                if not tags:
                    self.Tag.delete().where(where).execute()
                for key, value in tags:
                    cond = where & (self.Tag.key == key)
                    if value is not None:
                        cond &= self.Tag.value == value
                    self.Tag.delete().where(cond).execute()

    # -- RunInstances ClientToken ------------------------------------------------------

    def run_token(self, owner: int, token: str) -> list[int] | None:
        row = self.RunToken.get_or_none(
            (self.RunToken.owner == owner) & (self.RunToken.token == token)
        )
        return [int(v) for v in row.vids.split()] if row is not None else None

    def save_run_token(self, owner: int, token: str, vids: list[int]) -> None:
        with self.db.atomic():
            self.RunToken.insert(owner=owner, token=token, vids=" ".join(map(str, vids))).execute()
