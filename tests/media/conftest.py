"""Media tests: a live server (SQLite, then PostgreSQL) and files made on the spot."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from PIL import Image

from inner_circle.sdk import InnerCircleClient
from tests.support import Family, StartServer, need_service, s3_settings

TUS = {"Tus-Resumable": "1.0.0"}
GPS_IFD = 0x8825
ORIENTATION = 0x0112


@pytest.fixture
def server_database_url(database_url: str) -> str:
    """``start_server`` on this test's database: SQLite, then PostgreSQL."""
    return database_url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The media store and the database are independent parts: S3 runs with SQLite only.

    Every media test that takes ``media_settings`` would otherwise run four times; the
    fourth pairing (PostgreSQL and S3) tests nothing the other three do not, and costs the
    most (about 40 s a run)."""
    redundant = [item for item in items if _pairing(item) == ("postgres", "s3")]
    if redundant:
        config.hook.pytest_deselected(items=redundant)
        items[:] = [item for item in items if _pairing(item) != ("postgres", "s3")]


def _pairing(item: pytest.Item) -> tuple[object, object] | None:
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "media_settings" not in params:
        return None
    return params.get("database_url"), params["media_settings"]


@pytest.fixture(params=["local", "s3"])
def media_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The media store: the data folder, then S3 (SeaweedFS, a bucket per test; downloads
    through our signed route so that the same tests hold; presigned URLs have their own)."""
    if request.param == "local":
        return {}
    return {**s3_settings(request.getfixturevalue("seaweed")), "media_s3_presign": False}


@pytest_asyncio.fixture
async def media_family(start_server: StartServer, media_settings: dict[str, Any]) -> Family:
    return await start_server(**media_settings)


async def stored_objects(family: Family) -> list[str]:
    """What the family's media store holds (file paths or object keys)."""
    settings = family.settings
    if settings.media_backend == "local":
        root = settings.data_dir / "media"
        return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []
    import aioboto3

    session = aioboto3.Session(
        aws_access_key_id=settings.media_s3_access_key,
        aws_secret_access_key=settings.media_s3_secret_key,
        region_name=settings.media_s3_region,
    )
    async with session.client("s3", endpoint_url=settings.media_s3_endpoint) as s3:
        listed = await s3.list_objects_v2(
            Bucket=settings.media_s3_bucket, Prefix=settings.media_s3_prefix
        )
    return sorted(item["Key"] for item in listed.get("Contents", []))


def staged_files(family: Family) -> list[str]:
    """What the family's staging folder holds: partial uploads and processing leftovers."""
    root = family.settings.data_dir / "uploads"
    return sorted(str(p) for p in root.rglob("*")) if root.exists() else []


def photo_with_gps(width: int = 64, height: int = 32) -> bytes:
    """A JPEG taken "sideways" (EXIF orientation 6) with GPS coordinates in its EXIF."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 10)).save(out, "PNG")
    return out.getvalue()


def png_bomb(side: int = 100_000) -> bytes:
    """A tiny PNG whose header claims ``side``×``side`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def ffmpeg_file(tmp_path: Path, name: str, *args: str) -> bytes:
    """A short media file made by ffmpeg (skipped, or failed in CI, without it)."""
    if shutil.which("ffmpeg") is None:
        need_service("ffmpeg is not installed")
    target = tmp_path / name
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *args, str(target)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return target.read_bytes()


def voice_ogg(tmp_path: Path) -> bytes:
    return ffmpeg_file(
        tmp_path, "voice.ogg", "-f", "lavfi", "-i", "sine=frequency=440:duration=1.2",
        "-c:a", "libopus", "-b:a", "24k",
    )  # fmt: skip


def video_mp4(tmp_path: Path) -> bytes:
    return ffmpeg_file(
        tmp_path, "clip.mp4", "-f", "lavfi", "-i", "testsrc=duration=2:size=160x120:rate=10",
        "-pix_fmt", "yuv420p",
    )  # fmt: skip


def tools_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, keep: bool, **scripts: str
) -> Path:
    """Set PATH to a folder of the given shell scripts (by command name), followed by the
    usual PATH with ``keep``, alone without it (no ffmpeg at all). The test servers run in
    this process, so their lookup of ffmpeg/ffprobe sees this PATH."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, body in scripts.items():
        script = folder / name
        script.write_text("#!/bin/sh\n" + body)
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}" if keep else str(folder))
    return folder


async def tus_create(client: InnerCircleClient, length: int, **meta: str) -> str:
    import base64

    encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
    headers = {**TUS, "Upload-Length": str(length)}
    if encoded:
        headers["Upload-Metadata"] = encoded
    response = await client.request("POST", "/uploads", headers=headers)
    assert response.status_code == 201
    return str(response.json()["id"])
