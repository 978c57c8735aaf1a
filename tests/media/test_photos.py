"""Photos end to end: upload, processing (orientation, EXIF/GPS gone, thumbnails, BlurHash),
a message with the photo, and what the other member downloads."""

from __future__ import annotations

import io
import os
import stat

import httpx
from PIL import Image

from tests.media.conftest import GPS_IFD, photo_with_gps, png, tus_create
from tests.support import Family


async def test_a_photo_reaches_the_other_member_without_its_location(media_family: Family) -> None:
    anna = await media_family.member("anna")
    ben = await media_family.member("ben", connect=True)
    chat = await anna.private_chat(ben.user_id)

    upload = await anna.upload_file(photo_with_gps(64, 32), name="IMG_0001.jpg")
    assert upload.status == "ready", upload.error
    photo = upload.attachment
    assert photo is not None
    assert (photo.kind, photo.mime_type, photo.name) == ("image", "image/jpeg", "IMG_0001.jpg")
    assert (photo.width, photo.height) == (32, 64)  # orientation 6: turned upright
    assert photo.blurhash and photo.thumbnail_url and photo.preview_url

    sent = await anna.post_message(chat.id, attachment_ids=[photo.id])
    assert sent.content == "📷 Photo" and sent.caption == ""
    assert [a.id for a in sent.attachments] == [photo.id]
    received = await ben.inbox.wait_for("messageReceived")
    assert received["attachments"][0]["id"] == str(photo.id)

    (seen,) = [m for m in await ben.history(chat.id) if m.id == sent.id]
    original = await ben.download(seen.attachments[0].url)
    assert original.status_code == 200
    assert original.headers["content-type"] == "image/jpeg"
    assert "attachment" not in original.headers.get("content-disposition", "")
    image = Image.open(io.BytesIO(original.content))
    assert image.size == (32, 64)
    exif = image.getexif()
    assert not exif.get_ifd(GPS_IFD) and 0x0112 not in exif and 0x010F not in exif

    thumb = await ben.download(seen.attachments[0].thumbnail_url or "")
    assert thumb.headers["content-type"] == "image/webp"
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 320


async def test_a_caption_is_the_content_and_several_photos_keep_their_order(
    media_family: Family,
) -> None:
    anna = await media_family.member("anna")
    ben = await media_family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    first = await anna.upload_file(png(10, 10), name="a.png")
    second = await anna.upload_file(png(20, 20), name="b.png")
    ids = [second.id, first.id]

    with_caption = await anna.post_message(chat.id, "Our first snow", attachment_ids=ids)
    assert with_caption.content == with_caption.caption == "Our first snow"
    assert [a.id for a in with_caption.attachments] == ids
    third = await anna.upload_file(png(30, 30), name="c.png")
    fourth = await anna.upload_file(png(40, 40), name="d.png")
    without = await anna.post_message(chat.id, attachment_ids=[third.id, fourth.id])
    assert without.content == "📷 2 photos"

    # The seed's app reads history as before: text only, the fallback for files.
    async with httpx.AsyncClient(base_url=media_family.url) as http:
        page = await http.get(
            f"/messages/{chat.id}", headers={"Authorization": f"Bearer {ben.access_token}"}
        )
    contents = [m["content"] for m in page.json()]
    assert contents[-2:] == ["Our first snow", "📷 2 photos"]


async def test_stored_and_staged_files_are_private(media_family: Family) -> None:
    if media_family.settings.media_backend != "local":
        return  # the bucket's policy is the store's business
    previous = os.umask(0o022)  # a usual umask: files would be world-readable by default
    try:
        anna = await media_family.member("anna")
        ben = await media_family.member("ben")
        chat = await anna.private_chat(ben.user_id)
        upload = await anna.upload_file(photo_with_gps(), name="home.jpg")
        await anna.post_message(chat.id, attachment_ids=[upload.id])
        started = await tus_create(anna, 100, filename="half.bin")
        await anna.request(
            "PATCH", f"/uploads/{started}",
            headers={"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                     "Content-Type": "application/offset+octet-stream"},
            content=b"x" * 10,
        )  # fmt: skip
    finally:
        os.umask(previous)
    data = media_family.settings.data_dir
    found = [p for folder in ("media", "uploads") for p in (data / folder).rglob("*")]
    assert (data / "uploads" / f"{started}.part").is_file()
    for path in [data / "media", data / "uploads", *found]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"


async def test_an_animated_gif_keeps_its_frames_and_loses_its_comments(
    media_family: Family,
) -> None:
    anna = await media_family.member("anna")
    frames = [Image.new("RGB", (24, 16), colour) for colour in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(
        out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0,
        comment=b"taken at 55.75N 37.62E",
    )  # fmt: skip
    assert b"55.75N" in out.getvalue()
    upload = await anna.upload_file(out.getvalue(), name="wave.gif")
    assert upload.attachment is not None, upload.error
    assert (upload.attachment.kind, upload.attachment.mime_type) == ("image", "image/gif")
    got = await anna.download(upload.attachment.url)
    assert b"55.75N" not in got.content
    assert Image.open(io.BytesIO(got.content)).n_frames == 3
