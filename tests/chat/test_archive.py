"""Zips from strangers: traversal names, bombs, nesting, limits, safe names."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from deskterm.connectors.archive import (
    Archive,
    ArchiveError,
    ArchiveLimits,
    FolderMedia,
)
from deskterm.settings import ConfigError, parse_settings
from tests.chat.builders import cli, write, zip_bytes

MIB = 1024 * 1024


def bomb_member(size: int) -> bytes:
    """A zip with one member of ``size`` zero bytes (compresses about 1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("_chat.txt", "w") as out:
        chunk = b"\0" * MIB
        for _ in range(size // MIB):
            out.write(chunk)
    return buf.getvalue()


def nested_bomb(levels: int, fanout: int = 16) -> bytes:
    """A 42.zip-style bomb: each level holds ``fanout`` copies of the level below."""
    data = bomb_member(8 * MIB)
    for level in range(levels):
        data = zip_bytes({f"level{level}-{i}.zip": data for i in range(fanout)})
    return data


@pytest.mark.parametrize(
    "name", ["../evil.txt", "a/../../evil.txt", "/etc/passwd", "C:\\evil.txt", "..\\..\\evil.txt"]
)
def test_zip_slip_is_refused_before_anything_is_read(tmp_path: Path, name: str) -> None:
    path = write(tmp_path / "x.zip", zip_bytes({"_chat.txt": "hi", name: "owned"}))
    with pytest.raises(ArchiveError, match="points outside the archive"):
        Archive(path, "x.zip")
    assert not (tmp_path / "evil.txt").exists()


def test_zip_slip_through_the_cli_is_one_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path / "chat.zip", zip_bytes({"../evil": "x", "_chat.txt": "hi"}))
    _, err, code = cli("--db", str(tmp_path / "s.db"), "import", "whatsapp", str(path), ok=False)
    assert code == 1
    assert err.startswith("deskterm: Refusing chat.zip: member '../evil' points outside")
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "evil").exists()


def test_a_zip_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    path = write(tmp_path / "bomb.zip", bomb_member(64 * MIB))
    with pytest.raises(ArchiveError, match=r"compresses \d+:1, which only zip bombs do"):
        Archive(path, "bomb.zip")


def test_a_nested_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    path = write(tmp_path / "42.zip", nested_bomb(2))  # 16 x 16 x 8 MiB = 2 GiB of zeros
    assert path.stat().st_size < 2 * MIB
    archive = Archive(path, "42.zip")  # the outer levels themselves are modest
    try:
        inner = archive.nested(archive.names()[0])
        with pytest.raises(ArchiveError, match="which only zip bombs do"):
            inner.nested(inner.names()[0])
    finally:
        archive.close()
    deeper = write(tmp_path / "4096.zip", nested_bomb(3))
    for bomb in (path, deeper):
        _, err, code = cli(
            "--db", str(tmp_path / "s.db"), "import", "whatsapp", str(bomb), ok=False
        )
        assert code == 1 and "zip bomb" in err and "Refusing" in err


def test_size_limits_total_and_per_member(tmp_path: Path) -> None:
    path = write(tmp_path / "big.zip", zip_bytes({"a.txt": "x" * 5000, "b.txt": "y" * 5000}))
    with pytest.raises(ArchiveError, match="per-file limit"):
        Archive(path, "big.zip", ArchiveLimits(max_member=4000))
    with pytest.raises(ArchiveError, match=r"unpacks to 10\.0 KB, over the limit"):
        Archive(path, "big.zip", ArchiveLimits(max_total=8000))
    Archive(path, "big.zip", ArchiveLimits(max_total=10_000)).close()


def test_limits_come_from_the_config(tmp_path: Path, isolated_home: Path) -> None:
    # Without [ingest] keys the settings give the connector's own defaults.
    ingest = parse_settings({}).ingest
    assert ArchiveLimits() == ArchiveLimits(
        max_total=ingest.archive_max_bytes,
        max_member=ingest.archive_member_max_bytes,
        max_ratio=ingest.archive_max_ratio,
    )
    with pytest.raises(ConfigError, match=r"\[ingest\] archive_max_bytes: expected a whole number"):
        parse_settings({"ingest": {"archive_max_bytes": "1 GB"}})
    write(isolated_home / "config" / "config.toml", "[ingest]\narchive_max_bytes = 100\n")
    path = write(tmp_path / "c.zip", zip_bytes({"_chat.txt": "x" * 500}))
    _, err, code = cli("--db", str(tmp_path / "s.db"), "import", "whatsapp", str(path), ok=False)
    assert code == 1 and "over the limit of 100 bytes" in err


def test_a_member_that_lies_about_its_size_is_stopped(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"_chat.txt": "a" * 10_000}, compress=zipfile.ZIP_STORED))
    # Shrink the declared size in both headers: the stored data is longer than declared.
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(sig)
        data[at + offset : at + offset + 4] = (100).to_bytes(4, "little")
    path = write(tmp_path / "liar.zip", bytes(data))
    archive = Archive(path, "liar.zip")
    try:
        with pytest.raises((ArchiveError, zipfile.BadZipFile)):
            archive.read("_chat.txt")
    finally:
        archive.close()


def test_nesting_depth_is_limited(tmp_path: Path) -> None:
    data = zip_bytes({"_chat.txt": "hi"})
    for i in range(4):
        data = zip_bytes({f"z{i}.zip": data})
    archive = Archive(write(tmp_path / "deep.zip", data), "deep.zip")
    try:
        current = archive
        with pytest.raises(ArchiveError, match="nested more than 3 deep"):
            for _ in range(4):
                current = current.nested(current.names()[0])
    finally:
        archive.close()


def test_macos_metadata_is_skipped(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.zip",
        zip_bytes(
            {"__MACOSX/._a.txt": "x", "dir/._a.txt": "x", "dir/a.txt": "a", ".DS_Store": "x"}
        ),
    )
    with Archive(path, "m.zip") as archive:
        assert archive.names() == ["dir/a.txt"]
        assert archive.size_of("a.txt") == 1


def test_store_writes_only_inside_the_target_with_safe_names(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.zip",
        zip_bytes({"sub/.hidden..pdf": b"1", "sub/na\x1bme<>|?.jpg": b"22", "sub/a.jpg": b"333"}),
    )
    dest = tmp_path / "data" / "attachments"
    with Archive(path, "m.zip") as archive:
        hidden = archive.store("sub/.hidden..pdf", dest)
        odd = archive.store("sub/na\x1bme<>|?.jpg", dest)
        first = archive.store("a.jpg", dest)
        again = archive.store("a.jpg", dest)
        too_big = archive.store("a.jpg", dest, max_bytes=2)
    assert hidden is not None and hidden.name == "hidden..pdf"
    assert odd is not None and odd.name == "name_.jpg"
    assert first == again and first is not None and first.read_bytes() == b"333"
    assert too_big is None
    assert all(p.parent == dest.resolve() for p in (hidden, odd, first))


def test_folder_media_refuses_paths_outside_its_root(tmp_path: Path) -> None:
    write(tmp_path / "secret.txt", "s")
    write(tmp_path / "export" / "photos" / "p.jpg", "jpg")
    media = FolderMedia(tmp_path / "export")
    assert media.size_of("photos/p.jpg") == 3
    assert media.size_of("../secret.txt") is None
    assert media.size_of(str(tmp_path / "secret.txt")) is None


def test_not_a_zip(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="not a readable zip file"):
        Archive(write(tmp_path / "x.zip", b"PK\x03\x04garbage"), "x.zip")
