"""Photos, files and voice messages in the web client, between two browsers, on the real server.

Anna sends two photos and a file with a caption; Boris sees their placeholders and then
the thumbnails live, opens the photo viewer, downloads the file under its name and finds
everything in *Media and files*; Anna records a voice message with Chromium's fake
microphone (a tone, see conftest.tone_wav) and Boris plays it; a photo sent while offline is
uploaded and sent once when the connection is back; the admin sees the storage used.
"""

from __future__ import annotations

import asyncio
import re
import struct
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from inner_circle.sdk import InnerCircleClient
from tests.e2e.conftest import PHONE, api_token, shot, sign_in
from tests.media.conftest import video_mp4, voice_ogg
from tests.support import process_server

pytestmark = pytest.mark.browser


def png(path: Path, width: int, height: int, seed: int) -> Path:
    """A real PNG (a colour gradient) without an imaging library."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes(((x * 255) // width, (y * 255) // height, (seed * 70) % 256))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )
    return path


def attach(page: Any, source: str, files: list[Path]) -> None:
    """The paperclip menu, then one of its sources (the file input behind the item)."""
    page.get_by_role("button", name="Attach").click()
    page.get_by_label(source, exact=True).set_input_files([str(f) for f in files])


def open_chat(page: Any, title: str) -> None:
    page.locator(".chat-item", has_text=title).first.click()
    expect(page.locator(".chat-head-title")).to_have_text(title)


def notes_chat(
    live_server: Any, new_page: Any, member: Any, title: str
) -> tuple[Any, dict[str, str], str]:
    """A new member's own group (no one else in it), open on a phone: page, API headers, id."""
    m = member("notes")
    headers = {
        "Authorization": f"Bearer {api_token(live_server.url, m['username'], m['password'])}"
    }
    r = httpx.post(
        f"{live_server.url}/chats", json={"name": title, "participantIds": []}, headers=headers
    )
    assert r.status_code == 201, r.text
    page = new_page(viewport=PHONE)
    sign_in(page, m["username"], m["password"])
    open_chat(page, title)
    return page, headers, str(r.json()["id"])


def test_photos_files_and_voice_between_two_members(
    live_server: Any, new_page: Any, member: Any, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:5]
    anna = member("anna", admin=True, display_name=f"Anna {suffix}")
    boris = member("boris", display_name=f"Boris {suffix}")
    token = api_token(live_server.url, anna["username"], anna["password"])
    headers = {"Authorization": f"Bearer {token}"}
    title = f"Trip {suffix}"
    r = httpx.post(
        f"{live_server.url}/chats",
        json={"name": title, "participantIds": [boris["id"]]},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    chat_id = r.json()["id"]

    pa = new_page(viewport=PHONE)
    sign_in(pa, anna["username"], anna["password"])
    open_chat(pa, title)
    pb = new_page(viewport=PHONE, color_scheme="dark")
    sign_in(pb, boris["username"], boris["password"])
    open_chat(pb, title)

    # --- Anna: two photos from the gallery and a file, with a caption ---------------------
    photos = [png(tmp_path / f"beach-{i}.png", 640, 480 - i * 120, i) for i in (1, 2)]
    doc = tmp_path / f"budget-{suffix}.csv"
    doc.write_text("item,amount\n" + "tickets,120\n" * 1066)  # 12,804 bytes: "12.5 KB"
    attach(pa, "Photo or video", photos)
    attach(pa, "File", [doc])
    tray = pa.get_by_role("list", name="Attachments")
    expect(tray.locator(".tray-item")).to_have_count(3)
    composer = pa.get_by_role("textbox", name="Message")
    composer.fill("Our first day")
    composer.press("Enter")
    expect(tray).to_have_count(0)

    # Sent: the real message replaces the pending one (which showed the upload's progress).
    sent = pa.locator(".msg-row.mine[data-seq]", has_text="Our first day")
    expect(sent.locator(".media-tile")).to_have_count(2)
    expect(sent.locator(".file-card")).to_have_count(1)
    expect(pa.locator(".msg-row.pending")).to_have_count(0)

    # --- Boris: placeholders at the photos' size, then the thumbnails, live -------------
    got = pb.locator(".msg-row.theirs[data-seq]", has_text="Our first day")
    tiles = got.locator(".media-tile")
    expect(tiles).to_have_count(2)
    expect(tiles.locator("canvas.blurhash")).to_have_count(2)
    expect(got.locator(".blur-image.is-loaded")).to_have_count(2)
    assert all(
        got.locator(".blur-image img").evaluate_all("els => els.map(e => e.naturalWidth > 0)")
    )
    card = got.locator(".file-card")
    expect(card).to_contain_text(doc.name)
    expect(card.locator(".file-meta")).to_have_text("CSV · 12.5 KB")
    # The notification offer that follows the first message sent: not now.
    pa.get_by_role("region", name="Notifications").get_by_role("button", name="Not now").click()
    shot(pb, "phone-media-dark.png")
    shot(pa, "phone-media-light.png")

    # The viewer: both photos of the chat, next / previous, closes with Escape.
    tiles.first.click()
    viewer = pb.get_by_role("dialog", name="Photo 1 of 2")
    expect(viewer).to_be_visible()
    expect(viewer.locator(".blur-image.is-loaded")).to_have_count(1)
    viewer.get_by_role("button", name="Next").click()
    expect(pb.get_by_role("dialog", name="Photo 2 of 2")).to_be_visible()
    pb.get_by_role("button", name="Zoom in").click()
    shot(pb, "phone-viewer-dark.png")
    with pb.expect_download() as photo_dl:
        pb.get_by_role("button", name=f"Download {photos[1].name}").click()
    assert photo_dl.value.suggested_filename == photos[1].name
    pb.keyboard.press("Escape")
    expect(pb.locator("dialog.viewer")).to_have_count(0)

    # The file downloads under its own name, byte for byte.
    with pb.expect_download() as dl:
        card.click()
    assert dl.value.suggested_filename == doc.name
    assert Path(dl.value.path()).read_bytes() == doc.read_bytes()

    # --- Anna records a voice message (fake microphone); Boris plays it ----------------
    pa.get_by_role("button", name="Record voice message").click()
    bar = pa.get_by_role("status", name="Recording")
    expect(bar).to_be_visible()
    expect(bar.locator(".rec-time")).to_have_text("0:03", timeout=10_000)
    shot(pa, "phone-recording-light.png")
    pa.get_by_role("button", name="Stop recording").click()
    expect(pa.locator(".recorder-preview")).to_be_visible()
    shot(pa, "phone-voice-preview-light.png")
    pa.get_by_role("button", name="Send voice message").click()
    mine_voice = pa.locator(".msg-row.mine[data-seq] .voice-player")
    expect(mine_voice).to_have_count(1)

    voice = pb.locator(".msg-row.theirs[data-seq] .voice-player")
    expect(voice).to_have_count(1)
    expect(voice.locator(".voice-time")).to_have_text(re.compile(r"^0:0[23]$"))
    voice.get_by_role("button", name="Playback speed: 1×").click()
    expect(voice.get_by_role("button", name="Playback speed: 1.5×")).to_be_visible()
    voice.get_by_role("button", name="Play voice message").click()
    expect(voice.get_by_role("button", name="Pause")).to_be_visible()
    pb.wait_for_function(
        "() => { const a = document.querySelector('audio.voice-audio');"
        " return a && a.currentTime > 0.3 && a.playbackRate === 1.5; }"
    )
    # It plays to the end and stops.
    expect(voice.get_by_role("button", name="Play voice message")).to_be_visible(timeout=10_000)
    shot(pb, "phone-voice-dark.png")

    # --- Media and files in chat info --------------------------------------------------
    pb.get_by_role("button", name="Chat info", exact=True).click()
    pb.get_by_role("button", name="Media and files").click()
    gallery = pb.get_by_role("dialog", name=f"Media and files · {title}")
    expect(gallery.locator(".media-tile")).to_have_count(2)
    expect(gallery.locator(".blur-image.is-loaded")).to_have_count(2)
    shot(pb, "phone-media-list-dark.png")
    gallery.get_by_role("tab", name="Files").click()
    expect(gallery.locator(".file-card")).to_have_count(1)
    gallery.get_by_role("tab", name="Voice").click()
    expect(gallery.locator(".voice-player")).to_have_count(1)

    # --- A photo sent while offline goes out once, when the connection is back ----------
    pa.context.set_offline(True)
    expect(pa.get_by_role("status").filter(has_text="No connection")).to_be_visible()
    late = png(tmp_path / "sunset.png", 320, 240, 3)
    attach(pa, "Photo or video", [late])
    composer.fill("Sunset, sent offline")
    composer.press("Enter")
    pending = pa.locator(".msg-row.pending", has_text="Sunset, sent offline")
    expect(pending.locator(".pending-thumb")).to_be_visible()
    expect(pending.locator(".upload-text")).to_have_text("Waiting for the connection")
    expect(pending.get_by_role("progressbar")).to_have_attribute("value", "0")
    # Reloaded while offline: the queued photo comes back from IndexedDB.
    pa.reload()
    expect(pa.locator(".chat-head-title")).to_have_text(title)
    expect(pending.locator(".pending-thumb")).to_be_visible()
    pa.context.set_offline(False)
    expect(pa.locator(".msg-row.mine[data-seq]", has_text="Sunset, sent offline")).to_have_count(1)
    expect(pb.locator(".msg-row.theirs[data-seq]", has_text="Sunset, sent offline")).to_have_count(
        1
    )
    history = httpx.get(f"{live_server.url}/messages/{chat_id}?limit=50", headers=headers)
    assert history.status_code == 200, history.text
    captions = [m["caption"] for m in history.json()]
    assert captions.count("Sunset, sent offline") == 1
    assert [len(m["attachments"]) for m in history.json()] == [3, 1, 1]
    # What the placeholders were drawn from.
    first = history.json()[0]["attachments"]
    assert [a["kind"] for a in first] == ["image", "image", "file"]
    assert all(a["blurhash"] and a["width"] and a["height"] for a in first[:2])

    # --- The admin's storage view ------------------------------------------------------
    pa.goto("/#/admin")
    pa.get_by_role("tab", name="Members").click()
    storage = pa.get_by_role("list", name="Storage")
    # Two photos, the file, the voice message and the sunset.
    expect(storage.locator(f"[data-user-id='{anna['id']}']")).to_contain_text("5 files")
    storage.scroll_into_view_if_needed()
    shot(pa, "phone-storage-light.png")

    # Deleting a message deletes its files for everyone: Boris's copy goes, so do the bytes.
    sunset = history.json()[-1]
    photo_url = f"{live_server.url}{sunset['attachments'][0]['url']}"
    assert httpx.get(photo_url).status_code == 200
    r = httpx.delete(f"{live_server.url}/messages/{chat_id}/{sunset['id']}", headers=headers)
    assert r.status_code == 200, r.text
    row = pb.locator(f".msg-row[data-message-id='{sunset['id']}']")
    expect(row).to_contain_text("Message deleted")
    expect(row.locator(".media-tile")).to_have_count(0)
    assert httpx.get(photo_url).status_code == 404


def test_hold_to_record_on_touch_drop_a_file_and_a_refused_picture(
    live_server: Any, new_page: Any, member: Any
) -> None:
    page, headers, chat_id = notes_chat(live_server, new_page, member, "Voice notes")
    mic = page.get_by_role("button", name="Record voice message")
    box = mic.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    touch = {"pointerType": "touch", "isPrimary": True, "pointerId": 7, "clientY": y}

    # Sliding left cancels: nothing is sent.
    mic.dispatch_event("pointerdown", {**touch, "clientX": x})
    bar = page.get_by_role("status", name="Recording")
    expect(bar).to_contain_text("Slide to cancel")
    mic.dispatch_event("pointermove", {**touch, "clientX": x - 100})
    expect(bar).to_have_count(0)

    # Held for two seconds and released: sent at once, no preview.
    mic.dispatch_event("pointerdown", {**touch, "clientX": x})
    expect(bar.locator(".rec-time")).to_have_text("0:02", timeout=10_000)
    mic.dispatch_event("pointerup", {**touch, "clientX": x})
    expect(page.locator(".msg-row.mine[data-seq] .voice-player")).to_have_count(1)
    expect(page.locator(".recorder-preview")).to_have_count(0)
    history = httpx.get(f"{live_server.url}/messages/{chat_id}", headers=headers)
    assert [[a["kind"] for a in msg["attachments"]] for msg in history.json()] == [["voice"]]
    assert history.json()[0]["content"].startswith("🎤")

    # A second, short one; playing the first continues with it.
    mic.dispatch_event("pointerdown", {**touch, "clientX": x})
    expect(bar.locator(".rec-time")).to_have_text("0:01", timeout=10_000)
    mic.dispatch_event("pointerup", {**touch, "clientX": x})
    voices = page.locator(".msg-row.mine[data-seq] .voice-player")
    expect(voices).to_have_count(2)
    voices.first.get_by_role("button", name="Play voice message").click()
    page.wait_for_function(
        "() => { const a = document.querySelectorAll('audio.voice-audio');"
        " return a.length === 2 && a[0].paused && a[1].currentTime > 0.2; }",
        timeout=15_000,
    )

    # A file dropped on the composer is attached too.
    dropped = page.evaluate_handle(
        "() => { const dt = new DataTransfer();"
        " dt.items.add(new File(['shopping list'], 'list.txt', {type: 'text/plain'}));"
        " return dt; }"
    )
    page.dispatch_event("form.composer", "drop", {"dataTransfer": dropped})
    expect(page.get_by_role("list", name="Attachments")).to_contain_text("list.txt")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg-row.mine[data-seq] .file-card")).to_contain_text("list.txt")

    # A picture the server cannot read: the message is not sent and says why; Remove drops it.
    broken = page.evaluate_handle(
        "() => { const dt = new DataTransfer();"
        " const bytes = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 1, 2]);"
        " dt.items.add(new File([bytes], 'broken.png', {type: 'image/png'}));"
        " return dt; }"
    )
    page.dispatch_event("form.composer", "drop", {"dataTransfer": broken})
    page.get_by_role("button", name="Send").click()
    failed = page.locator(".msg-row.pending.failed")
    expect(failed.locator(".upload-error")).to_have_text("This file could not be read.")
    failed.get_by_role("button", name="Remove").click()
    expect(page.locator(".msg-row.pending")).to_have_count(0)


def test_a_video_plays_inline_with_its_poster(
    live_server: Any, new_page: Any, member: Any, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(video_mp4(tmp_path))  # skips without ffmpeg
    page, _, _ = notes_chat(live_server, new_page, member, "Home videos")
    attach(page, "Photo or video", [clip])
    page.get_by_role("button", name="Send").click()
    tile = page.locator(".msg-row.mine[data-seq] .media-tile.is-video")
    expect(tile).to_have_count(1)
    expect(tile.locator(".media-badge")).to_have_text("0:02")
    video = tile.get_by_label("Video: clip.mp4")
    expect(video).to_have_attribute("poster", re.compile(r"^/media/.+/preview\?"))
    video.evaluate("v => v.play()")
    page.wait_for_function(
        "() => document.querySelector('.media-tile.is-video video').currentTime > 0.3"
    )


async def _voice_of_unknown_length(url: str, owner: dict[str, Any], title: str, ogg: bytes) -> None:
    """A group where the owner sent a voice message without saying how long it is."""
    async with InnerCircleClient(url) as client:
        await client.login(owner["username"], owner["password"])
        chat = await client.create_group(title, [])
        voice = await client.upload_file(ogg, name="voice.ogg", kind="voice")
        assert voice.attachment is not None and voice.attachment.duration_ms is None
        await client.post_message(chat.id, "", attachment_ids=[voice.id])


def test_a_voice_message_of_unknown_length_shows_the_length_of_its_file(
    new_page: Any, member: Any, tmp_path: Path
) -> None:
    """A server without ffmpeg cannot tell a voice message's length the client did not
    send: the player shows the one the browser reads from the file, never "0:00"."""
    ogg = voice_ogg(tmp_path)  # 1.2 s of Opus
    no_tools = tmp_path / "empty-bin"
    no_tools.mkdir()
    server = process_server(tmp_path / "server", env={"PATH": str(no_tools)})
    server.start()
    try:
        anna = member("anna", server=server)
        # Playwright's sync API keeps an event loop on this thread: the SDK runs on another.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(
                asyncio.run, _voice_of_unknown_length(server.url, anna, "Voice notes", ogg)
            ).result()
        page = new_page(server=server)
        sign_in(page, anna["username"], anna["password"])
        open_chat(page, "Voice notes")
        player = page.locator(".msg-row.mine[data-seq] .voice-player")
        expect(player.locator(".voice-time")).to_have_text("0:01")
        expect(player.get_by_role("slider")).to_have_attribute("aria-valuemax", "1")
    finally:
        server.close()
