"""The database handle every model module shares.

``database`` is a :class:`peewee.DatabaseProxy`; :func:`one_core.db.connect`
initialises it from oned.conf's ``DB`` section (SQLite in WAL mode by
default, PostgreSQL on request). Model modules subclass :class:`BaseModel`.
"""

from __future__ import annotations

import peewee

database = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False
