"""tus uploads: big and resumed ones, limits refused early, the type from the content,
bombs and broken files refused cleanly."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from inner_circle.sdk import InnerCircleClient
from inner_circle.sdk.errors import InnerCircleAPIError
from inner_circle.server.db.models import Upload
from tests.media.conftest import TUS, png, png_bomb, staged_files, stored_objects, tus_create
from tests.support import Family, StartServer

MB = 1024 * 1024
PATCH = {**TUS, "Content-Type": "application/offset+octet-stream"}


def auth(client: InnerCircleClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.access_token}"}


async def uploads_of(family: Family, client: InnerCircleClient) -> list[Upload]:
    from sqlalchemy import select

    async def rows(uow: object) -> list[Upload]:
        found = await uow.session.scalars(select(Upload).where(Upload.user_id == client.user_id))  # type: ignore[attr-defined]
        return list(found)

    return list(await family.operator(rows))


async def test_tus_options_and_refusal_of_other_versions(media_family: Family) -> None:
    anna = await media_family.member("anna")
    async with httpx.AsyncClient(base_url=media_family.url) as http:
        options = await http.options("/uploads")
        wrong = await http.post(
            "/uploads", headers={**auth(anna), "Tus-Resumable": "0.2.2", "Upload-Length": "5"}
        )
    assert options.status_code == 204
    assert options.headers["Tus-Version"] == "1.0.0"
    assert options.headers["Tus-Max-Size"] == str(100 * MB)
    assert "creation" in options.headers["Tus-Extension"]
    assert "termination" in options.headers["Tus-Extension"]
    assert wrong.status_code == 412 and wrong.headers["Tus-Version"] == "1.0.0"
    assert await uploads_of(media_family, anna) == []


async def test_a_big_upload_cut_in_the_middle_resumes_where_it_stopped(
    media_family: Family,
) -> None:
    anna = await media_family.member("anna")
    ben = await media_family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    content = os.urandom(9 * MB + 123)
    upload_id = await tus_create(anna, len(content), filename="backup.bin")

    async def cut_after(limit: int) -> AsyncIterator[bytes]:
        for start in range(0, limit, 256 * 1024):
            yield content[start : min(start + 256 * 1024, limit)]
        raise ConnectionResetError("the train entered a tunnel")

    async with httpx.AsyncClient(base_url=media_family.url) as http:
        with pytest.raises((ConnectionResetError, httpx.HTTPError)):
            await http.patch(
                f"/uploads/{upload_id}",
                headers={**auth(anna), **PATCH, "Upload-Offset": "0"},
                content=cut_after(5 * MB),
            )
        # Resume as tus-js-client does: HEAD, then PATCH from there (a PATCH may find the
        # cut one still finishing: 409, HEAD again).
        offset = -1
        for _ in range(200):
            head = await http.head(f"/uploads/{upload_id}", headers={**auth(anna), **TUS})
            offset = int(head.headers["Upload-Offset"])
            answer = await http.patch(
                f"/uploads/{upload_id}",
                headers={**auth(anna), **PATCH, "Upload-Offset": str(offset)},
                content=content[offset:],
            )
            if answer.status_code == 204:
                break
            assert answer.json()["code"] == "UPLOAD_CONFLICT"
        assert 0 < offset <= 5 * MB, "what arrived before the cut was kept"
        assert answer.status_code == 204 and int(answer.headers["Upload-Offset"]) == len(content)

    status = await anna.upload_status(upload_id, wait=True)  # type: ignore[arg-type]
    assert status.status == "ready" and status.attachment is not None
    assert (status.attachment.kind, status.attachment.size) == ("file", len(content))
    sent = await anna.post_message(chat.id, attachment_ids=[status.attachment.id])
    assert sent.content == "📎 backup.bin"
    got = await ben.download(sent.attachments[0].url)
    assert hashlib.sha256(got.content).digest() == hashlib.sha256(content).digest()
    assert got.headers["content-disposition"].startswith("attachment;")


async def test_a_wrong_offset_is_a_conflict_and_bytes_past_the_length_are_refused(
    media_family: Family,
) -> None:
    anna = await media_family.member("anna")
    upload_id = await tus_create(anna, 10, filename="x.txt")
    async with httpx.AsyncClient(base_url=media_family.url) as http:
        wrong = await http.patch(
            f"/uploads/{upload_id}", headers={**auth(anna), **PATCH, "Upload-Offset": "3"},
            content=b"abc",
        )  # fmt: skip
        not_tus = await http.patch(
            f"/uploads/{upload_id}",
            headers={**auth(anna), **TUS, "Upload-Offset": "0", "Content-Type": "text/plain"},
            content=b"abc",
        )
        too_much = await http.patch(
            f"/uploads/{upload_id}", headers={**auth(anna), **PATCH, "Upload-Offset": "0"},
            content=b"0123456789ABC",
        )  # fmt: skip
    assert (wrong.status_code, wrong.json()["code"]) == (409, "UPLOAD_CONFLICT")
    assert not_tus.status_code == 415
    assert (too_much.status_code, too_much.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")
    # The bytes up to the length were kept: the upload is complete and gets processed.
    done = await anna.upload_status(upload_id, wait=True)  # type: ignore[arg-type]
    assert done.status == "ready" and done.attachment is not None
    assert done.attachment.size == 10


async def test_a_file_over_the_size_limit_is_refused_before_any_byte(
    start_server: StartServer, media_settings: dict[str, Any]
) -> None:
    family = await start_server(media_max_file_bytes=1000, **media_settings)
    anna = await family.member("anna")
    with pytest.raises(InnerCircleAPIError) as refused:
        await anna.upload_file(b"x" * 1001, name="big.bin")
    assert (refused.value.status, refused.value.code) == (413, "PAYLOAD_TOO_LARGE")
    assert await uploads_of(family, anna) == []
    assert await stored_objects(family) == [] and staged_files(family) == []
    fits = await anna.upload_file(b"x" * 1000, name="fits.bin")
    assert fits.status == "ready"


async def test_a_member_over_quota_is_refused_and_others_are_not(
    start_server: StartServer, media_settings: dict[str, Any]
) -> None:
    family = await start_server(media_quota_bytes=5000, **media_settings)
    anna = await family.member("anna")
    ben = await family.member("ben")
    await anna.upload_file(os.urandom(3000), name="one.bin")
    kept = await stored_objects(family)
    assert len(kept) == 1  # the first file's original
    with pytest.raises(InnerCircleAPIError) as refused:
        await anna.upload_file(os.urandom(3000), name="two.bin")
    assert (refused.value.status, refused.value.code) == (413, "QUOTA_EXCEEDED")
    assert len(await uploads_of(family, anna)) == 1
    assert await stored_objects(family) == kept and staged_files(family) == []
    assert (await ben.upload_file(os.urandom(3000), name="bens.bin")).status == "ready"


async def test_the_type_comes_from_the_content_not_the_claim(media_family: Family) -> None:
    anna = await media_family.member("anna")
    ben = await media_family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    page = b"<html><body><script>alert(document.cookie)</script></body></html>"
    # Claimed to be a photo, named like one: it is text, a download, never a page.
    disguised = await anna.upload_file(page, name="cat.png")
    assert disguised.attachment is not None
    assert (disguised.attachment.kind, disguised.attachment.mime_type) == ("file", "text/plain")
    assert disguised.attachment.thumbnail_url is None
    real_png = await anna.upload_file(png(), name="notes.txt")
    assert real_png.attachment is not None
    assert (real_png.attachment.kind, real_png.attachment.mime_type) == ("image", "image/png")

    sent = await anna.post_message(chat.id, attachment_ids=[disguised.attachment.id])
    got = await ben.download(sent.attachments[0].url)
    assert got.content == page
    assert_an_opaque_download(got)


async def test_an_svg_is_never_an_image_shown_from_our_origin(media_family: Family) -> None:
    anna = await media_family.member("anna")
    ben = await media_family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    drawing = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>fetch('/auth/refresh', {method: 'POST'})</script>"
        b'<rect width="10" height="10" fill="red"/></svg>'
    )
    upload = await anna.upload_file(drawing, name="logo.svg")
    assert upload.attachment is not None
    assert (upload.attachment.kind, upload.attachment.mime_type) == ("file", "text/plain")
    assert upload.attachment.thumbnail_url is None and upload.attachment.width is None

    sent = await anna.post_message(chat.id, attachment_ids=[upload.attachment.id])
    got = await ben.download(sent.attachments[0].url)
    assert got.content == drawing
    assert_an_opaque_download(got)
    assert "logo.svg" in got.headers["content-disposition"]


def assert_an_opaque_download(got: httpx.Response) -> None:
    """Served as bytes to save, never as a page or a drawing rendered from our origin."""
    assert got.headers["content-type"] == "application/octet-stream"
    assert "svg" not in got.headers["content-type"] and "html" not in got.headers["content-type"]
    assert got.headers["content-disposition"].startswith("attachment;")
    policies = got.headers.get_list("content-security-policy")
    assert policies == ["sandbox; default-src 'none'"]
    assert got.headers["x-content-type-options"] == "nosniff"


async def test_a_decompression_bomb_and_a_broken_image_are_refused_cleanly(
    media_family: Family,
) -> None:
    anna = await media_family.member("anna")
    ben = await media_family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    bomb = await anna.upload_file(png_bomb(), name="bomb.png")
    broken = await anna.upload_file(png()[:60] + b"\x00" * 200, name="broken.png")
    for refused in (bomb, broken):
        assert refused.status == "failed"
        assert refused.error is not None and refused.error.code == "UNSUPPORTED_MEDIA"
        assert refused.attachment is None
    with pytest.raises(InnerCircleAPIError) as cannot:
        await anna.post_message(chat.id, attachment_ids=[bomb.id])
    assert (cannot.value.status, cannot.value.code) == (409, "UPLOAD_CONFLICT")
    # The server is fine and the next photo goes through.
    assert (await anna.upload_file(png(), name="fine.png")).status == "ready"


async def test_an_image_over_the_pixel_limit_is_refused(
    start_server: StartServer, media_settings: dict[str, Any]
) -> None:
    family = await start_server(media_max_pixels=1000, **media_settings)
    anna = await family.member("anna")
    refused = await anna.upload_file(png(100, 100), name="big.png")
    assert refused.status == "failed" and refused.error is not None
    assert refused.error.code == "UNSUPPORTED_MEDIA"
    assert "pixels" in refused.error.message
    assert await stored_objects(family) == [] and staged_files(family) == []


async def test_uploads_are_private_to_their_uploader(media_family: Family) -> None:
    anna = await media_family.member("anna")
    ben = await media_family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    mine = await anna.upload_file(png(), name="mine.png")
    async with httpx.AsyncClient(base_url=media_family.url) as http:
        peek = await http.get(f"/uploads/{mine.id}", headers=auth(ben))
        head = await http.head(f"/uploads/{mine.id}", headers={**auth(ben), **TUS})
        cancel = await http.delete(f"/uploads/{mine.id}", headers={**auth(ben), **TUS})
    assert (peek.status_code, head.status_code, cancel.status_code) == (404, 404, 404)
    with pytest.raises(InnerCircleAPIError) as stolen:
        await ben.post_message(chat.id, attachment_ids=[mine.id])
    assert (stolen.value.status, stolen.value.code) == (400, "VALIDATION_FAILED")

    sent = await anna.post_message(chat.id, attachment_ids=[mine.id])
    with pytest.raises(InnerCircleAPIError) as again:
        await anna.post_message(chat.id, attachment_ids=[mine.id])
    assert again.value.status == 400
    async with httpx.AsyncClient(base_url=media_family.url) as http:
        attached = await http.delete(f"/uploads/{mine.id}", headers={**auth(anna), **TUS})
    assert attached.status_code == 409
    assert sent.attachments[0].id == mine.id


async def test_cancelling_an_upload_forgets_it(media_family: Family) -> None:
    anna = await media_family.member("anna")
    upload_id = await tus_create(anna, 100, filename="draft.bin")
    async with httpx.AsyncClient(base_url=media_family.url) as http:
        await http.patch(
            f"/uploads/{upload_id}", headers={**auth(anna), **PATCH, "Upload-Offset": "0"},
            content=b"x" * 40,
        )  # fmt: skip
        gone = await http.delete(f"/uploads/{upload_id}", headers={**auth(anna), **TUS})
        after = await http.get(f"/uploads/{upload_id}", headers=auth(anna))
    assert gone.status_code == 204 and after.status_code == 404
    staged = media_family.settings.data_dir / "uploads" / f"{upload_id}.part"
    assert not staged.exists()


async def test_bad_upload_headers_are_refused(media_family: Family) -> None:
    anna = await media_family.member("anna")
    async with httpx.AsyncClient(base_url=media_family.url) as http:
        answers = [
            await http.post("/uploads", headers={**auth(anna), **TUS}),
            await http.post("/uploads", headers={**auth(anna), **TUS, "Upload-Length": "-1"}),
            await http.post("/uploads", headers={**auth(anna), **TUS, "Upload-Length": "0"}),
            await http.post(
                "/uploads",
                headers={
                    **auth(anna),
                    **TUS,
                    "Upload-Length": "5",
                    "Upload-Metadata": "filename %%%",
                },
            ),
            await http.post(
                "/uploads",
                headers={**auth(anna), **TUS, "Upload-Length": "5", "Upload-Defer-Length": "1"},
            ),
            await http.post("/uploads", headers={**TUS, "Upload-Length": "5"}),
        ]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 400, 401]
    assert await uploads_of(media_family, anna) == []
