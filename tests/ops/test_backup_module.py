"""The backup module the CLI's commands call, used directly: a logical round trip, the
refusals as OpsError (nothing printed, nothing exited), and a new epoch after a restore."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from inner_circle.server.ops.backup import OpsError, make_backup, restore_backup
from inner_circle.server.ops.export import export_history
from tests.support import Family, make_settings


async def test_backup_module_round_trip_gives_a_new_epoch(
    family: Family, database_url: str, fresh_database: str, tmp_path: Path
) -> None:
    anna = await family.member("anna")
    chat = await anna.family_chat()
    await anna.post_message(chat.id, "kept by the backup")
    cursor = (await anna.sync()).cursor
    source = make_settings(database_url, tmp_path)
    archive = tmp_path / "family.tar.gz"

    made = await asyncio.to_thread(make_backup, source, archive, logical=True)
    assert made.form == "logical" and archive.exists()

    target = make_settings(fresh_database, tmp_path / "restored")
    done = await asyncio.to_thread(restore_backup, target, archive)
    assert (done.form, done.revision) == ("logical", made.revision)
    with pytest.raises(OpsError, match="--force"):
        await asyncio.to_thread(restore_backup, target, archive)  # it holds data now

    document = await asyncio.to_thread(export_history, target, tmp_path / "export.json")
    family_chat = next(c for c in document["chats"] if c["type"] == "family")
    assert [m["content"] for m in family_chat["messages"]] == ["kept by the backup"]
    with pytest.raises(OpsError, match="no member named"):
        await asyncio.to_thread(export_history, target, tmp_path / "x.json", user="nobody")

    # The same rows, another history: the restored database has its own epoch.
    from inner_circle.server.bootstrap import operator_uows
    from inner_circle.server.repositories import sync as sync_repo

    uows, engine = operator_uows(target)
    try:
        async with uows.read() as uow:
            epoch = await sync_repo.epoch(uow.session)
    finally:
        await engine.dispose()  # type: ignore[attr-defined]
    assert epoch != cursor.split(":")[0]
