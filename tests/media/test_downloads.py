"""Downloads: who may fetch a file, signed URL expiry, Range for seeking, caching, and files
deleted with their message (once no other message uses the same content)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from inner_circle.sdk.errors import InnerCircleAPIError
from tests.media.conftest import png, stored_objects
from tests.support import PASSWORD, Family, ShiftedClock, StartServer


async def test_members_download_outsiders_and_anonymous_cannot(media_family: Family) -> None:
    anna = await media_family.member("anna")
    ben = await media_family.member("ben")
    carl = await media_family.member("carl")
    chat = await anna.private_chat(ben.user_id)
    upload = await anna.upload_file(b"%PDF-1.4 family tree", name="tree.pdf")
    assert upload.attachment is not None
    sent = await anna.post_message(chat.id, "the tree", attachment_ids=[upload.attachment.id])
    attachment_id = sent.attachments[0].id

    fresh = await ben.attachment(attachment_id)
    assert (await ben.download(fresh.url)).content == b"%PDF-1.4 family tree"
    for outsider_call in (carl.attachment(attachment_id), carl.chat_media(chat.id)):
        with pytest.raises(InnerCircleAPIError) as hidden:
            await outsider_call
        assert hidden.value.status == 404
    async with httpx.AsyncClient(base_url=media_family.url) as http:
        anonymous = await http.get(f"/attachments/{attachment_id}")
        unsigned = await http.get(f"/media/{attachment_id}/original")
        parts = urlsplit(fresh.url)
        query = parse_qs(parts.query)
        forged = await http.get(parts.path, params={"e": query["e"][0], "s": "A" * 43})
        not_ascii = await http.get(parts.path, params={"e": query["e"][0], "s": "Ж" * 43})
        other_variant = await http.get(
            f"/media/{attachment_id}/thumb", params={"e": query["e"][0], "s": query["s"][0]}
        )
        other_file = await http.get(
            f"/media/{upload.id.hex[:8]}-0000-4000-8000-000000000000/original",
            params={"e": query["e"][0], "s": query["s"][0]},
        )
    assert anonymous.status_code == 401
    assert unsigned.status_code == 400
    assert (forged.status_code, forged.json()["code"]) == (403, "FORBIDDEN")
    assert (not_ascii.status_code, not_ascii.json()["code"]) == (403, "FORBIDDEN")
    assert other_variant.status_code == 403
    assert other_file.status_code == 403
    assert "the tree" not in forged.text


async def test_a_signed_url_expires(
    start_server: StartServer, media_settings: dict[str, Any]
) -> None:
    clock = ShiftedClock()
    family = await start_server(clock=clock, media_url_ttl_seconds=60, **media_settings)
    anna = await family.member("anna")
    ben = await family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    upload = await anna.upload_file(png(), name="p.png")
    assert upload.attachment is not None
    sent = await anna.post_message(chat.id, attachment_ids=[upload.attachment.id])
    url = sent.attachments[0].url
    expires = int(parse_qs(urlsplit(url).query)["e"][0])
    assert 60 <= expires - clock.now().timestamp() <= 91  # rounded up to half the lifetime
    assert (await ben.download(url)).status_code == 200

    clock.shift = timedelta(seconds=95)
    expired = await ben.download(url)
    assert (expired.status_code, expired.json()["code"]) == (403, "LINK_EXPIRED")
    fresh = await ben.attachment(sent.attachments[0].id)
    assert fresh.url != url and (await ben.download(fresh.url)).status_code == 200


async def test_range_requests_seek_and_caching_headers_hold(media_family: Family) -> None:
    anna = await media_family.member("anna")
    ben = await media_family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    content = os.urandom(300_000)
    upload = await anna.upload_file(content, name="data.bin")
    assert upload.attachment is not None
    sent = await anna.post_message(chat.id, attachment_ids=[upload.attachment.id])
    url = sent.attachments[0].url

    whole = await ben.download(url)
    assert whole.headers["accept-ranges"] == "bytes"
    assert "immutable" in whole.headers["cache-control"]
    middle = await ben.download(url, headers={"Range": "bytes=1000-1999"})
    assert middle.status_code == 206
    assert middle.headers["content-range"] == f"bytes 1000-1999/{len(content)}"
    assert middle.content == content[1000:2000]
    tail = await ben.download(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == content[-500:]
    open_ended = await ben.download(url, headers={"Range": "bytes=299000-"})
    assert open_ended.content == content[299000:]
    beyond = await ben.download(url, headers={"Range": f"bytes={len(content)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(content)}"
    cached = await ben.download(url, headers={"If-None-Match": whole.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""


async def test_deleting_a_message_deletes_its_files_once_unused(media_family: Family) -> None:
    anna = await media_family.member("anna")
    ben = await media_family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    same = png(50, 50)
    first = await anna.upload_file(same, name="mine.png")
    second = await ben.upload_file(same, name="copy.png")
    assert first.attachment is not None and second.attachment is not None
    one = await anna.post_message(chat.id, attachment_ids=[first.attachment.id])
    two = await ben.post_message(chat.id, attachment_ids=[second.attachment.id])
    files = await stored_objects(media_family)
    assert len(files) == 3  # one content (original, thumb, preview) for both messages

    deleted = await anna.delete_message(chat.id, one.id)
    assert deleted.attachments == [] and deleted.content == ""
    gone = await ben.download(one.attachments[0].url)
    assert gone.status_code == 404
    with pytest.raises(InnerCircleAPIError):
        await ben.attachment(one.attachments[0].id)
    assert (await anna.download(two.attachments[0].url)).status_code == 200
    assert await stored_objects(media_family) == files

    await ben.delete_message(chat.id, two.id)
    assert await stored_objects(media_family) == []
    history = await anna.history(chat.id)
    assert all(m.attachments == [] for m in history)


async def test_the_chat_media_list_pages_newest_first_by_kind(media_family: Family) -> None:
    anna = await media_family.member("anna")
    ben = await media_family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    sent = []
    for index in range(5):
        upload = await anna.upload_file(png(10 + index, 10), name=f"p{index}.png")
        assert upload.attachment is not None
        sent.append(await anna.post_message(chat.id, attachment_ids=[upload.attachment.id]))
    doc = await anna.upload_file(b"%PDF-1.4 x", name="x.pdf")
    assert doc.attachment is not None
    await anna.post_message(chat.id, "a document", attachment_ids=[doc.attachment.id])
    await anna.post_message(chat.id, "just text")

    everything = await ben.chat_media(chat.id)
    assert [i.attachment.name for i in everything.items] == [
        "x.pdf", "p4.png", "p3.png", "p2.png", "p1.png", "p0.png"
    ]  # fmt: skip
    first = await ben.chat_media(chat.id, kind=["image"], limit=2)
    assert [i.attachment.name for i in first.items] == ["p4.png", "p3.png"]
    assert first.items[0].message_id == sent[4].id
    assert first.items[0].sender_id == anna.user_id
    second = await ben.chat_media(chat.id, kind=["image"], limit=2, before=first.next_before)
    third = await ben.chat_media(chat.id, kind=["image"], limit=2, before=second.next_before)
    assert [i.attachment.name for i in second.items + third.items] == ["p2.png", "p1.png", "p0.png"]
    assert third.next_before is None
    files = await ben.chat_media(chat.id, kind=["file"])
    assert [i.attachment.name for i in files.items] == ["x.pdf"]
    with pytest.raises(InnerCircleAPIError) as bad:
        await ben.chat_media(chat.id, before="not-a-cursor")
    assert bad.value.status == 400


async def test_admins_see_storage_per_member(media_family: Family) -> None:
    anna = await media_family.member("anna")
    ben = await media_family.member("ben")
    dave = await media_family.member("dave", admin=True)
    await anna.upload_file(os.urandom(1000), name="a.bin")
    await anna.upload_file(os.urandom(500), name="b.bin")
    await ben.upload_file(os.urandom(700), name="c.bin")

    usage = (await dave.request("GET", "/admin/storage")).json()
    assert usage["totalBytes"] == 2200 and usage["fileCount"] == 3
    mine = {m["username"]: (m["bytes"], m["files"]) for m in usage["members"]}
    assert mine["anna"] == (1500, 2) and mine["ben"] == (700, 1) and mine["dave"] == (0, 0)
    with pytest.raises(InnerCircleAPIError) as refused:
        await anna.request("GET", "/admin/storage")
    assert (refused.value.status, refused.value.code) == (403, "ADMIN_ONLY")


async def test_a_new_media_secret_ends_the_links_handed_out_and_nothing_else(
    start_server: StartServer,
) -> None:
    """docs/operations.md: a data folder restored without its ``media-secret`` gets a new
    one; links signed with the old one stop working, fresh links and the files do not."""
    before = await start_server(media_secret="old-" + "a" * 40)
    anna = await before.member("anna")
    ben = await before.member("ben")
    chat = await anna.private_chat(ben.user_id)
    upload = await anna.upload_file(b"%PDF-1.4 family tree", name="tree.pdf")
    assert upload.attachment is not None
    sent = await anna.post_message(chat.id, "the tree", attachment_ids=[upload.attachment.id])
    old_link = sent.attachments[0].url
    assert (await ben.download(old_link)).status_code == 200

    after = await start_server(media_secret="new-" + "b" * 40)  # the same family and files
    ben_after = after.client()
    await ben_after.login("ben", PASSWORD)
    refused = await ben_after.download(old_link)
    assert (refused.status_code, refused.json()["code"]) == (403, "FORBIDDEN")
    fresh = await ben_after.attachment(sent.attachments[0].id)
    got = await ben_after.download(fresh.url)
    assert (got.status_code, got.content) == (200, b"%PDF-1.4 family tree")
