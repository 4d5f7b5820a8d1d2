"""one_cloudkit.images: the repository on its own (real SQLite files, real directories)."""

from __future__ import annotations

import io
import os
import sqlite3
from pathlib import Path

import pytest
from one_cloudkit.images import (
    ImageNotFound,
    ImageNotOwned,
    ImageRepository,
    MalformedImageId,
    UploadFailed,
    UploadTooLarge,
    parse_image_id,
)


@pytest.fixture
def repo(tmp_path):
    r = ImageRepository(tmp_path / "econe.db", tmp_path / "images", max_upload=1000)
    yield r
    r.close()


def test_schema_is_14s(repo, tmp_path):
    sql = dict(
        sqlite3.connect(tmp_path / "econe.db").execute("select name, sql from sqlite_master")
    )
    assert "AUTOINCREMENT" in sql["images"]
    for column in ("owner", "name", "description", "path", "size", "md5"):
        assert f'"{column}"' in sql["images"]
    assert '"user"' in sql["image_acls"]


def test_add_list_get(repo, tmp_path):
    a = repo.add_stream(3, [b"abc", b"def"])
    b = repo.add_file(4, io.BytesIO(b"xyz"), name="n", description="d")
    assert (a.id, b.id) == (1, 2)
    assert a.path == str(tmp_path / "images" / "1")
    assert Path(a.path).read_bytes() == b"abcdef"
    assert (a.size, a.md5) == (6, "e80b5017098950fc58aad83c8c14978e")
    assert repo.list(3) == [a]
    assert repo.list() == [a, b]
    assert repo.get("ami-2") == b
    assert (b.name, b.description) == ("n", "d")
    with pytest.raises(ImageNotFound):
        repo.get("9")
    with pytest.raises(MalformedImageId):
        repo.get("i-1")
    assert os.listdir(tmp_path / "images" / "tmp") == []


def test_ownership(repo):
    image = repo.add_stream(3, [b"x"])
    assert repo.get_owned(image.id, 3) == image
    assert repo.get_owned(image.id, 0) == image
    with pytest.raises(ImageNotOwned) as err:
        repo.get_owned(image.id, 4)
    assert str(err.value) == "Not permited to use image"
    with pytest.raises(ImageNotOwned):
        repo.get_owned(image.id, 0, admin=False)


def test_limit_and_abort_leave_nothing(repo, tmp_path):
    with pytest.raises(UploadTooLarge):
        repo.add_stream(3, [b"x" * 600, b"y" * 600])
    with repo.upload(3) as up:
        up.write(b"partial")
    with pytest.raises(UploadFailed):
        repo.upload().commit()  # no owner
    assert os.listdir(tmp_path / "images" / "tmp") == []
    assert repo.list() == []


def test_failed_move_deletes_the_row(repo, tmp_path):
    """§7 #45: 1.4 left a half-filled row when the move failed."""
    (tmp_path / "images" / "1").mkdir()  # IMAGE_DIR/1 cannot be replaced by a file
    (tmp_path / "images" / "1" / "keep").write_text("x")
    with pytest.raises(UploadFailed):
        repo.add_stream(3, [b"data"])
    assert repo.list() == []
    assert os.listdir(tmp_path / "images" / "tmp") == []


def test_two_repositories_share_one_database(tmp_path):
    r1 = ImageRepository(tmp_path / "db", tmp_path / "img")
    r2 = ImageRepository(tmp_path / "db", tmp_path / "img")
    other = ImageRepository(tmp_path / "db2", tmp_path / "img2")
    try:
        image = r1.add_stream(1, [b"a"])
        assert r2.get(image.id) == image
        assert other.list() == []
    finally:
        r1.close()
        r2.close()
        other.close()


@pytest.mark.parametrize(("text", "value"), [("5", 5), ("ami-5", 5), (" 12 ", 12), (7, 7)])
def test_parse_image_id(text, value):
    assert parse_image_id(text) == value


@pytest.mark.parametrize("text", ["", "abc", "5abc", "i-5", "-1", "ami-"])
def test_parse_image_id_malformed(text):
    with pytest.raises(MalformedImageId):
        parse_image_id(text)
