"""Uploads never finished, and finished ones never sent, are deleted after a day; processing
that a stopped process left undone is resumed by the next one."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from inner_circle.server.db.models import Attachment, Upload
from tests.media.conftest import png, staged_files, stored_objects, tus_create
from tests.support import PASSWORD, StartServer


async def test_orphaned_uploads_are_cleaned_after_a_day(
    start_server: StartServer, media_settings: dict[str, Any]
) -> None:
    family = await start_server(**media_settings)
    anna = await family.member("anna")
    ben = await family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    unfinished = await tus_create(anna, 100, filename="half.bin")
    await anna.request(
        "PATCH", f"/uploads/{unfinished}",
        headers={"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                 "Content-Type": "application/offset+octet-stream"},
        content=b"x" * 50,
    )  # fmt: skip
    never_sent = await anna.upload_file(png(12, 12), name="never.png")
    sent = await anna.post_message(
        chat.id, attachment_ids=[(await anna.upload_file(png(), name="kept.png")).id]
    )
    staged = family.settings.data_dir / "uploads" / f"{unfinished}.part"
    assert staged.exists() and len(await stored_objects(family)) == 6

    # A day passes (the rows age), and a server process that starts then sweeps at once.
    async def age(uow: Any) -> None:
        day = timedelta(hours=25)
        for model in (Upload, Attachment):
            rows = await uow.session.scalars(select(model))
            for row in rows:
                row.created_at -= day
                if isinstance(row, Upload):
                    row.updated_at -= day

    await family.operator(age)
    later = await start_server(**media_settings)
    anna_later = later.client()
    await anna_later.login("anna", PASSWORD)
    async with httpx.AsyncClient(base_url=later.url) as http:
        headers = {"Authorization": f"Bearer {anna_later.access_token}"}
        for _ in range(200):  # polling a condition, bounded: 10 s at most
            answers = [
                (await http.get(f"/uploads/{upload_id}", headers=headers)).status_code
                for upload_id in (unfinished, never_sent.id)
            ]
            if answers == [404, 404]:
                break
            await asyncio.sleep(0.05)
    assert answers == [404, 404]
    assert staged_files(family) == []
    assert len(await stored_objects(family)) == 3  # the sent photo's variants only
    kept = await anna_later.attachment(sent.attachments[0].id)
    assert (await anna_later.download(kept.url)).status_code == 200


async def test_processing_cut_short_by_a_stop_is_resumed_at_start(
    start_server: StartServer, media_settings: dict[str, Any]
) -> None:
    family = await start_server(**media_settings)
    anna = await family.member("anna")
    content = png(30, 20)
    upload_id = await tus_create(anna, len(content), filename="late.png")
    # Every byte arrived, then the process stopped before processing it.
    staged = family.settings.data_dir / "uploads" / f"{upload_id}.part"
    staged.parent.mkdir(mode=0o700, exist_ok=True)
    staged.write_bytes(content)

    async def stopped_while_processing(uow: Any) -> None:
        upload = await uow.session.get(Upload, uuid.UUID(upload_id))
        upload.status = "processing"
        upload.offset = len(content)

    await family.operator(stopped_while_processing)
    assert (await anna.upload_status(uuid.UUID(upload_id))).status == "processing"

    await start_server(**media_settings)  # the next process to start picks it up
    status = await anna.upload_status(uuid.UUID(upload_id), wait=True, timeout=20)
    assert status.status == "ready" and status.attachment is not None
    assert (status.attachment.width, status.attachment.height) == (30, 20)
    assert staged_files(family) == []
    assert len(await stored_objects(family)) == 3  # original, thumb, preview
