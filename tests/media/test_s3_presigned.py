"""The S3 store with presigned URLs: members download straight from the object store
(SeaweedFS here), with our content type and disposition, and only with a valid signature."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from harness import SeaweedS3
from tests.media.conftest import photo_with_gps, stored_objects
from tests.support import Family, StartServer, s3_settings


@pytest.fixture
async def s3_family(start_server: StartServer, seaweed: SeaweedS3) -> Family:
    return await start_server(**s3_settings(seaweed))


async def test_downloads_come_straight_from_the_store(
    s3_family: Family, seaweed: SeaweedS3
) -> None:
    anna = await s3_family.member("anna")
    ben = await s3_family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    photo = await anna.upload_file(photo_with_gps(), name="IMG.jpg")
    document = await anna.upload_file(b"%PDF-1.4 plan", name="plan.pdf")
    assert photo.attachment is not None and document.attachment is not None
    sent = await anna.post_message(
        chat.id, "files", attachment_ids=[photo.attachment.id, document.attachment.id]
    )
    image_url, pdf_url = (a.url for a in sent.attachments)
    assert image_url.startswith(seaweed.endpoint) and "X-Amz-Signature" in image_url

    async with httpx.AsyncClient() as http:
        image = await http.get(image_url)
        pdf = await http.get(pdf_url)
        seek = await http.get(pdf_url, headers={"Range": "bytes=0-3"})
        parts = urlsplit(pdf_url)
        tampered = await http.get(
            parts._replace(query=parts.query.replace("plan.pdf", "x.pdf")).geturl()
        )
        thumb = await http.get(sent.attachments[0].thumbnail_url or "")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert b"GPS" not in image.content
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert (seek.status_code, seek.content) == (206, b"%PDF")
    assert tampered.status_code == 403
    assert thumb.headers["content-type"] == "image/webp"

    await anna.delete_message(chat.id, sent.id)
    assert await stored_objects(s3_family) == []
    async with httpx.AsyncClient() as http:
        assert (await http.get(image_url)).status_code == 404


async def test_the_same_content_is_stored_once(s3_family: Family) -> None:
    anna = await s3_family.member("anna")
    ben = await s3_family.member("ben")
    payload: Any = b"%PDF-1.4 same" * 100
    await anna.upload_file(payload, name="a.pdf")
    await ben.upload_file(payload, name="b.pdf")
    assert len(await stored_objects(s3_family)) == 1
