"""Backup while the server runs, restore into a fresh database, start it: same history.
Export a member's or the family's history as JSON, without secrets."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from harness import SeaweedS3
from inner_circle.sdk import InnerCircleClient
from tests.support import (
    PASSWORD,
    POSTGRES,
    Family,
    ThreadedServer,
    make_settings,
    s3_settings,
    threaded_servers,
)

# What the server generates in its data folder when not configured; never in a backup.
SECRETS = ("jwt-secret", "vapid-private-key", "media-secret")


def secrets_in(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes().strip() for p in data_dir.iterdir() if p.name in SECRETS}


async def cli(
    *args: str, database_url: str, data_dir: Path, settings: dict[str, Any] | None = None
) -> subprocess.CompletedProcess[str]:
    """The operator's command line; ``settings`` as a server's (``media_backend=...``)."""
    env = {**os.environ, "INNER_CIRCLE_DATABASE_URL": database_url}
    env["INNER_CIRCLE_DATA_DIR"] = str(data_dir)
    env.update({f"INNER_CIRCLE_{k.upper()}": str(v) for k, v in (settings or {}).items()})
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "inner_circle.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def populate(family: Family) -> dict[str, InnerCircleClient]:
    anna = await family.member("anna", admin=True)
    ben = await family.member("ben")
    carl = await family.member("carl")
    chat = await anna.family_chat()
    await anna.post_message(chat.id, "Hello family 👋")
    await ben.post_message(chat.id, 'Hi!\nTwo lines, "quotes" and ünïcode')
    private = await anna.private_chat(carl.user_id)
    await carl.post_message(private.id, "just between us")
    group = await anna.create_group("Cousins", [ben.user_id])
    await ben.post_message(group.id, "group message")
    await anna.mark_read_rest(chat.id, 2)
    return {"anna": anna, "ben": ben, "carl": carl}


async def everything(client: InnerCircleClient) -> dict[str, Any]:
    """What a member sees: chats and their full histories."""
    chats = sorted(await client.chats(), key=lambda c: str(c.id))
    return {
        str(chat.id): {
            "chat": chat.model_dump(mode="json", exclude={"participants"}),
            "history": [m.model_dump(mode="json") for m in await client.history(chat.id)],
        }
        for chat in chats
    }


@pytest.mark.parametrize("form", ["native", "logical"])
async def test_backup_restore_round_trip(
    family: Family, database_url: str, fresh_database: str, tmp_path: Path, form: str
) -> None:
    members = await populate(family)
    before = {name: await everything(client) for name, client in members.items()}
    # A cursor issued before the backup, then a change the backup will not hold.
    stale = (await members["anna"].sync()).cursor
    archive = tmp_path / "family.tar.gz"
    args = ["backup", "--output", str(archive)] + (["--logical"] if form == "logical" else [])
    made = await cli(*args, database_url=database_url, data_dir=tmp_path)  # server still running
    assert made.returncode == 0, made.stderr
    assert archive.stat().st_mode & 0o077 == 0  # private to the operator

    target = {"database_url": fresh_database, "data_dir": tmp_path / "restored"}
    restored = await cli("restore", str(archive), **target)
    assert restored.returncode == 0, restored.stderr
    again = await cli("restore", str(archive), **target)  # it holds data now
    assert again.returncode == 1
    assert "--force" in again.stderr
    if form == "native":  # replacing works too (SQLite: the file; PostgreSQL: the schema)
        forced = await cli("restore", str(archive), "--force", **target)
        assert forced.returncode == 0, forced.stderr
    server = ThreadedServer(make_settings(fresh_database, tmp_path))  # same secret as before
    await server.start()
    copy = Family(server)
    try:
        for name in members:
            client = copy.client()
            await client.login(name, PASSWORD)
            assert await everything(client) == before[name]
        # The restored server keeps working: new messages continue the sequence.
        anna = copy.client()
        await anna.login("anna", PASSWORD)
        chat = await anna.family_chat()
        message = await anna.post_message(chat.id, "after the restore")
        assert message.seq == 3
        # The restore gave the database a new epoch: a cursor from before it starts
        # fresh, even though its id is not above the newest one.
        again_page = await anna.sync(stale)
        assert again_page.reset is True and again_page.chats is not None
    finally:
        await copy.close()
        await server.stop()


async def test_logical_backup_moves_a_family_from_sqlite_to_postgres(
    sqlite_url: str, postgres_template: str, tmp_path: Path
) -> None:
    server = ThreadedServer(make_settings(sqlite_url, tmp_path))
    await server.start()
    family = Family(server)
    try:
        members = await populate(family)
        before = await everything(members["ben"])
        archive = tmp_path / "family.tar.gz"
        made = await cli(
            "backup", "--logical", "-o", str(archive), database_url=sqlite_url, data_dir=tmp_path
        )
        assert made.returncode == 0, made.stderr
    finally:
        await family.close()
        await server.stop()
    target = await asyncio.to_thread(POSTGRES.create_database, "ic_move")
    try:
        restored = await cli("restore", str(archive), database_url=target, data_dir=tmp_path)
        assert restored.returncode == 0, restored.stderr
        server = ThreadedServer(make_settings(target, tmp_path))
        await server.start()
        family = Family(server)
        try:
            ben = family.client()
            await ben.login("ben", PASSWORD)
            assert await everything(ben) == before
            chat = await ben.family_chat()
            assert (await ben.post_message(chat.id, "on PostgreSQL now")).seq == 3
        finally:
            await family.close()
            await server.stop()
    finally:
        await asyncio.to_thread(POSTGRES.drop_database, target)


async def test_export_family_and_member(family: Family, database_url: str, tmp_path: Path) -> None:
    await populate(family)
    whole = tmp_path / "family.json"
    made = await cli("export", "-o", str(whole), database_url=database_url, data_dir=tmp_path)
    assert made.returncode == 0, made.stderr
    text = whole.read_text()
    document = json.loads(text)
    assert document["scope"] == "family"
    assert {m["username"] for m in document["members"]} == {"anna", "ben", "carl"}
    contents = [m["content"] for c in document["chats"] for m in c["messages"]]
    assert sorted(contents) == sorted(
        [
            "Hello family 👋",
            'Hi!\nTwo lines, "quotes" and ünïcode',
            "just between us",
            "group message",
        ]
    )
    first = next(c for c in document["chats"] if c["type"] == "family")["messages"][0]
    assert first["sender"] == "anna" and first["seq"] == 1 and first["createdAt"].endswith("Z")
    for secret in ("passwordHash", "password", "$argon2", "token", "invitationCode"):
        assert secret not in text

    mine = tmp_path / "ben.json"
    made = await cli(
        "export", "--user", "ben", "-o", str(mine), database_url=database_url, data_dir=tmp_path
    )
    assert made.returncode == 0, made.stderr
    ben = json.loads(mine.read_text())
    assert ben["scope"] == "member" and ben["member"] == "ben"
    assert sorted(c["type"] for c in ben["chats"]) == ["family", "group"]
    assert "just between us" not in mine.read_text()
    not_a_backup = tmp_path / "junk.tar.gz"
    not_a_backup.write_bytes(b"not a tar file")
    junk = await cli("restore", str(not_a_backup), database_url=database_url, data_dir=tmp_path)
    assert junk.returncode != 0
    missing = await cli(
        "export", "--user", "nobody", "-o", str(mine), database_url=database_url, data_dir=tmp_path
    )
    assert missing.returncode == 1


async def test_backup_restore_and_export_carry_the_media(
    family: Family, database_url: str, fresh_database: str, tmp_path: Path
) -> None:
    anna = await family.member("anna")
    ben = await family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    upload = await anna.upload_file(b"%PDF-1.4 the family tree", name="tree.pdf")
    sent = await anna.post_message(chat.id, "the tree", attachment_ids=[upload.id])
    archive = tmp_path / "family.tar.gz"
    made = await cli(
        "backup", "--output", str(archive), database_url=database_url, data_dir=tmp_path
    )
    assert made.returncode == 0, made.stderr
    exported = tmp_path / "family.json"
    made = await cli("export", "-o", str(exported), database_url=database_url, data_dir=tmp_path)
    assert made.returncode == 0, made.stderr
    [with_file] = [
        m
        for c in json.loads(exported.read_text())["chats"]
        for m in c["messages"]
        if m["attachments"]
    ]
    [entry] = with_file["attachments"]
    assert (entry["name"], entry["kind"], entry["mimeType"]) == (
        "tree.pdf",
        "file",
        "application/pdf",
    )
    assert (tmp_path / "media" / entry["file"]).read_bytes() == b"%PDF-1.4 the family tree"
    # The media came along, the server's generated secrets did not (docs/operations.md).
    secrets = secrets_in(tmp_path)
    assert {"vapid-private-key", "media-secret"} <= secrets.keys(), secrets.keys()
    with tarfile.open(archive) as packed:
        members = [m for m in packed.getmembers() if m.isfile()]
        assert any(m.name.startswith("media/") for m in members)
        for member in members:
            assert Path(member.name).name not in SECRETS, member.name
            content = packed.extractfile(member).read()  # type: ignore[union-attr]
            assert not any(secret in content for secret in secrets.values()), member.name

    restored_dir = tmp_path / "restored"
    restored = await cli(
        "restore", str(archive), database_url=fresh_database, data_dir=restored_dir
    )
    assert restored.returncode == 0, restored.stderr
    settings = make_settings(fresh_database, restored_dir)
    server = ThreadedServer(settings)
    await server.start()
    copy = Family(server)
    try:
        client = copy.client()
        await client.login("ben", PASSWORD)
        [message] = [m for m in await client.history(chat.id) if m.id == sent.id]
        got = await client.download(message.attachments[0].url)
        assert got.status_code == 200 and got.content == b"%PDF-1.4 the family tree"
    finally:
        await copy.close()
        await server.stop()


async def test_an_s3_store_is_left_to_its_own_backup(
    database_url: str, fresh_database: str, tmp_path: Path, seaweed: SeaweedS3
) -> None:
    """The backup holds the database and marks the media "external" (the store is backed
    up by its own means: docs/media.md); restored, the server finds its files in the store."""
    media = {**s3_settings(seaweed), "media_s3_presign": False}
    archive = tmp_path / "family.tar.gz"
    async with threaded_servers(database_url, tmp_path) as start:
        family = await start(**media)
        anna = await family.member("anna")
        ben = await family.member("ben")
        chat = await anna.private_chat(ben.user_id)
        upload = await anna.upload_file(b"%PDF-1.4 in the bucket", name="tree.pdf")
        sent = await anna.post_message(chat.id, attachment_ids=[upload.id])
        made = await cli(
            "backup", "--output", str(archive),
            database_url=database_url, data_dir=tmp_path, settings=media,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    with tarfile.open(archive, "r:gz") as packed:
        names = packed.getnames()
        manifest = json.load(packed.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["media"] == "external"
    assert not [n for n in names if n == "media" or n.startswith("media/")]

    restored_dir = tmp_path / "restored"
    restored = await cli(
        "restore", str(archive),
        database_url=fresh_database, data_dir=restored_dir, settings=media,
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    assert not (restored_dir / "media").exists()
    async with threaded_servers(fresh_database, restored_dir) as start:
        copy = await start(**media)
        client = copy.client()
        await client.login("ben", PASSWORD)
        [message] = [m for m in await client.history(chat.id) if m.id == sent.id]
        got = await client.download(message.attachments[0].url)
        assert got.status_code == 200 and got.content == b"%PDF-1.4 in the bucket"
