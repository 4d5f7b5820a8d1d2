"""The image repository of the cloud servers (spec cloud-apis §2).

Files live flat under ``IMAGE_DIR`` (image ``n`` is ``IMAGE_DIR/n``);
metadata lives in the ``images`` table of the repository's own database (1.4:
the SQLite file named by the server's ``DATABASE`` key), opened through
:func:`one_core.db.make_database` so it gets the same SQLite settings as
oned's (WAL, busy timeout) or a PostgreSQL server.

Uploads are streamed: :meth:`ImageRepository.upload` returns an
:class:`Upload` that writes chunks to a temporary file in ``IMAGE_DIR/tmp``
(same file system, so the final move is a rename), counting the size and
the MD5 as it goes and refusing to grow past the size limit. Nothing is
held in memory.

Usage::

    repo = ImageRepository("/srv/one/econe.db", "/srv/one/images", max_upload=10 * 2**30)
    with repo.upload(owner=3) as up:
        for chunk in body:
            up.write(chunk)
        image = up.commit()            # -> ImageRecord(id=1, path="/srv/one/images/1", ...)
    repo.get_owned("ami-1", uid=3)     # ImageNotFound / ImageNotOwned
    repo.list(owner=3)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import peewee

from one_cloudkit.images.errors import (
    ImageNotFound,
    ImageNotOwned,
    MalformedImageId,
    UploadFailed,
    UploadTooLarge,
)
from one_cloudkit.images.models import RepoModels, make_models

_ID_RE = re.compile(r"^(?:ami-)?(\d+)$")


def parse_image_id(text: str | int) -> int:
    """``"5"``, ``5`` or ``"ami-5"`` → 5; anything else raises :class:`MalformedImageId`."""
    if isinstance(text, int):
        return text
    match = _ID_RE.match(str(text).strip())
    if match is None:
        raise MalformedImageId(str(text))
    return int(match.group(1))


@dataclass(frozen=True)
class ImageRecord:
    """One row of ``images``."""

    id: int
    owner: int | None
    name: str | None
    description: str | None
    path: str | None
    size: int | None
    md5: str | None


def _record(row: Any) -> ImageRecord:
    return ImageRecord(
        id=row.id,
        owner=row.owner,
        name=row.name,
        description=row.description,
        path=row.path,
        size=row.size,
        md5=row.md5,
    )


class ImageRepository:
    """Image files under ``image_dir`` plus their metadata in ``database``.

    :param database: a SQLite file path (1.4's ``DATABASE``), a mapping like
        oned.conf's ``DB`` section (``backend``, ``path``/``host``...), or a
        ready :class:`peewee.Database`.
    :param image_dir: the directory of image files (created if missing).
    :param max_upload: largest accepted upload in bytes (None: no limit, as 1.4).
    """

    CHUNK = 1024 * 1024

    def __init__(
        self,
        database: str | os.PathLike[str] | Mapping[str, Any] | peewee.Database,
        image_dir: str | os.PathLike[str],
        *,
        max_upload: int | None = None,
    ):
        from one_core.db import make_database

        if isinstance(database, peewee.Database):
            self.db = database
        elif isinstance(database, Mapping):
            self.db = make_database(database, var_dir=str(image_dir))
        else:
            self.db = make_database({"backend": "sqlite", "path": os.fspath(database)})
        self.image_dir = Path(image_dir).absolute()
        self.tmp_dir = self.image_dir / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.max_upload = max_upload
        self.models: RepoModels = make_models(self.db)
        self._lock = threading.RLock()
        self.db.connect(reuse_if_open=True)
        self.db.create_tables(self.models.all(), safe=True)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.db.close()

    # -- look-ups ------------------------------------------------------------

    def get(self, image_id: str | int) -> ImageRecord:
        """The image with that id (``"5"`` or ``"ami-5"``); :class:`ImageNotFound` if none."""
        iid = parse_image_id(image_id)
        row = self.models.Image.get_or_none(self.models.Image.id == iid)
        if row is None:
            raise ImageNotFound(image_id)
        return _record(row)

    def get_owned(self, image_id: str | int, uid: int, *, admin: bool = True) -> ImageRecord:
        """:meth:`get`, then :class:`ImageNotOwned` unless ``uid`` owns it (or is 0 and ``admin``)."""
        image = self.get(image_id)
        if not self.may_use(image, uid, admin=admin):
            raise ImageNotOwned(image_id)
        return image

    @staticmethod
    def may_use(image: ImageRecord, uid: int, *, admin: bool = True) -> bool:
        """Whether ``uid`` may use ``image``: its owner, or uid 0 when ``admin``."""
        return image.owner == uid or (admin and uid == 0)

    def list(self, owner: int | None = None) -> list[ImageRecord]:
        """Images of ``owner`` (all when None), by id."""
        query = self.models.Image.select().order_by(self.models.Image.id)
        if owner is not None:
            query = query.where(self.models.Image.owner == owner)
        return [_record(row) for row in query]

    # -- adding ----------------------------------------------------------------

    def upload(self, owner: int | None = None) -> Upload:
        """A streaming upload: ``write()`` chunks, then ``commit()``.

        ``owner`` may be given here or, when it is only known after the bytes
        arrived (a request authenticated after its body), to :meth:`Upload.commit`.
        """
        return Upload(self, owner)

    def add_stream(
        self,
        owner: int,
        chunks: Iterable[bytes],
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> ImageRecord:
        """Store the bytes of ``chunks`` as a new image of ``owner``."""
        with self.upload(owner) as up:
            for chunk in chunks:
                up.write(chunk)
            return up.commit(name=name, description=description)

    def add_file(
        self,
        owner: int,
        stream: BinaryIO,
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> ImageRecord:
        """Copy a readable binary stream into a new image of ``owner``, chunk by chunk."""
        return self.add_stream(
            owner,
            iter(lambda: stream.read(self.CHUNK), b""),
            name=name,
            description=description,
        )

    def _insert(
        self, owner: int, tmp: Path, size: int, md5: str, name: str | None, description: str | None
    ) -> ImageRecord:
        """1.4's ``add``: insert the row, move the file to ``IMAGE_DIR/<id>``, fill the row.

        Unlike 1.4 (spec §7 #45) a failed move deletes the row again.
        """
        Image = self.models.Image
        with self._lock:
            with self.db.atomic():
                row = Image.create(owner=owner, name=name, description=description)
            final = self.image_dir / str(row.id)
            try:
                os.replace(tmp, final)
            except OSError as exc:
                with self.db.atomic():
                    row.delete_instance()
                raise UploadFailed(f"Can not store image: {exc.strerror or exc}") from None
            with self.db.atomic():
                Image.update(path=str(final), size=size, md5=md5).where(
                    Image.id == row.id
                ).execute()
        return self.get(row.id)

    def delete(self, image_id: str | int) -> None:
        """Remove an image's row and file (no 1.4 API calls this; the model hook did)."""
        image = self.get(image_id)
        with self._lock, self.db.atomic():
            self.models.Image.delete_by_id(image.id)
        if image.path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(image.path)


class Upload:
    """One streaming upload into the repository's ``tmp`` directory.

    A context manager: leaving it without :meth:`commit` (or on an error)
    removes the temporary file.
    """

    def __init__(self, repo: ImageRepository, owner: int | None = None):
        self.repo = repo
        self.owner = owner
        self.size = 0
        self._md5 = hashlib.md5(usedforsecurity=False)
        fd, name = tempfile.mkstemp(prefix="upload-", dir=repo.tmp_dir)
        self.path = Path(name)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self.committed: ImageRecord | None = None

    def __enter__(self) -> Upload:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.committed is None:
            self.abort()

    def write(self, chunk: bytes) -> None:
        """Append ``chunk``; :class:`UploadTooLarge` past the limit (the file is then removed)."""
        if self._file is None:
            raise UploadFailed("Upload already finished")
        limit = self.repo.max_upload
        if limit is not None and self.size + len(chunk) > limit:
            self.abort()
            raise UploadTooLarge(limit)
        try:
            self._file.write(chunk)
        except OSError as exc:
            self.abort()
            raise UploadFailed(f"Can not store image: {exc.strerror or exc}") from None
        self._md5.update(chunk)
        self.size += len(chunk)

    def commit(
        self,
        *,
        owner: int | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> ImageRecord:
        """Close the file, add it to the repository as ``owner``'s; returns the new image."""
        if owner is not None:
            self.owner = owner
        if self._file is None:
            raise UploadFailed("Upload already finished")
        if self.owner is None:
            self.abort()
            raise UploadFailed("Upload without an owner")
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        except OSError as exc:
            self.abort()
            raise UploadFailed(f"Can not store image: {exc.strerror or exc}") from None
        self._file = None
        try:
            self.committed = self.repo._insert(
                self.owner, self.path, self.size, self._md5.hexdigest(), name, description
            )
        except BaseException:
            self.abort()
            raise
        return self.committed

    def abort(self) -> None:
        """Drop the temporary file (idempotent)."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
