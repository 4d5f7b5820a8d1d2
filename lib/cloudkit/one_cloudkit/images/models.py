"""Peewee models of the image repository, bound per database (spec cloud-apis §2.1).

The tables are 1.4's (Sequel's naming): ``images`` and ``image_acls``.
Model classes are built per repository by :func:`make_models`, each bound to
that repository's own database handle, so two repositories (econe's and
OCCI's, or two in one test process) never share a global binding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import peewee
from playhouse.sqlite_ext import AutoIncrementField


@dataclass(frozen=True)
class RepoModels:
    """The model classes of one repository."""

    Image: Any
    """The ``images`` model (a :class:`peewee.Model` subclass made by :func:`make_models`)."""
    ImageAcl: Any
    """The ``image_acls`` model."""

    def all(self) -> list[type[peewee.Model]]:
        return [self.Image, self.ImageAcl]


def make_models(db: peewee.Database) -> RepoModels:
    """Model classes bound to ``db`` (tables ``images`` and ``image_acls``)."""

    key_field: type[peewee.AutoField] = peewee.AutoField
    if isinstance(db, peewee.SqliteDatabase):
        key_field = AutoIncrementField  # 1.4's ``integer PRIMARY KEY AUTOINCREMENT``

    class Image(peewee.Model):
        id = key_field()
        owner = peewee.IntegerField(null=True)
        name = peewee.CharField(max_length=255, null=True)
        description = peewee.CharField(max_length=255, null=True)
        path = peewee.CharField(max_length=255, null=True)
        size = peewee.IntegerField(null=True)
        md5 = peewee.CharField(max_length=255, null=True)

        class Meta:
            database = db
            table_name = "images"

    class ImageAcl(peewee.Model):
        """Created as 1.4 did; no code reads or writes it (spec §2.1)."""

        id = key_field()
        image_id = peewee.CharField(max_length=255, null=True)
        user = peewee.IntegerField(null=True)

        class Meta:
            database = db
            table_name = "image_acls"

    return RepoModels(Image=Image, ImageAcl=ImageAcl)
