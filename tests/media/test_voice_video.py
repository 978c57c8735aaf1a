"""Voice messages (Opus; duration and waveform) and videos (poster, duration), sent over
Socket.IO as the web client does; without ffmpeg; processing off the event loop."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from inner_circle.sdk.errors import InnerCircleAPIError
from tests.media.conftest import ffmpeg_file, tools_on_path, video_mp4, voice_ogg
from tests.support import Family, StartServer


async def test_a_voice_message_over_the_socket(media_family: Family, tmp_path: Path) -> None:
    recording = voice_ogg(tmp_path)
    anna = await media_family.member("anna", connect=True)
    ben = await media_family.member("ben", connect=True)
    chat = await anna.private_chat(ben.user_id)
    bars = [0, 40, 255, 128, 7]
    upload = await anna.upload_file(
        recording, name="voice.ogg", kind="voice", duration_ms=9000, waveform=bars
    )
    assert upload.attachment is not None, upload.error
    voice = upload.attachment
    assert voice.kind == "voice" and voice.mime_type == "audio/ogg"
    assert voice.duration_ms is not None and 1100 <= voice.duration_ms <= 1300  # probed wins
    assert voice.waveform == bars and voice.thumbnail_url is None

    sent = await anna.send_message(chat.id, attachment_ids=[voice.id])
    assert sent.content == "🎤 Voice message (0:01)"
    received = await ben.inbox.wait_for("messageReceived")
    assert received["attachments"][0]["kind"] == "voice"
    audio = await ben.download(received["attachments"][0]["url"])
    assert audio.headers["content-type"] == "audio/ogg" and audio.content == recording


@pytest.mark.parametrize(
    ("name", "codec", "served"),
    [
        ("voice.webm", ["-c:a", "libopus"], "audio/webm"),  # Chrome and Firefox record this
        ("voice.mp4", ["-c:a", "aac"], "audio/mp4"),  # Safari records AAC in MP4
    ],
)
async def test_voice_from_every_browser_recorder(
    media_family: Family, tmp_path: Path, name: str, codec: list[str], served: str
) -> None:
    recording = ffmpeg_file(
        tmp_path, name, "-f", "lavfi", "-i", "sine=frequency=300:duration=2.2", *codec
    )
    anna = await media_family.member("anna")
    upload = await anna.upload_file(recording, name=name, kind="voice")
    assert upload.attachment is not None, upload.error
    assert (upload.attachment.kind, upload.attachment.mime_type) == ("voice", served)
    assert upload.attachment.duration_ms is not None
    assert 2100 <= upload.attachment.duration_ms <= 2400


async def test_a_waveform_is_computed_when_the_recorder_sent_none(
    media_family: Family, tmp_path: Path
) -> None:
    anna = await media_family.member("anna")
    upload = await anna.upload_file(voice_ogg(tmp_path), name="v.ogg", kind="voice")
    assert upload.attachment is not None
    waveform = upload.attachment.waveform
    assert waveform and all(0 <= v <= 255 for v in waveform) and max(waveform) == 255


async def test_a_bad_waveform_is_refused(media_family: Family) -> None:
    anna = await media_family.member("anna")
    with pytest.raises(InnerCircleAPIError) as refused:
        await anna.upload_file(b"OggS", name="v.ogg", kind="voice", waveform=[1, 300])
    assert refused.value.status == 400


async def test_a_video_gets_a_poster_and_its_duration(media_family: Family, tmp_path: Path) -> None:
    anna = await media_family.member("anna")
    ben = await media_family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    upload = await anna.upload_file(video_mp4(tmp_path), name="clip.mp4")
    assert upload.attachment is not None, upload.error
    video = upload.attachment
    assert (video.kind, video.mime_type, video.width, video.height) == (
        "video",
        "video/mp4",
        160,
        120,
    )
    assert video.duration_ms is not None and 1900 <= video.duration_ms <= 2100
    assert video.blurhash and video.thumbnail_url

    sent = await anna.post_message(chat.id, attachment_ids=[video.id])
    assert sent.content == "🎬 Video"
    poster = await ben.download(sent.attachments[0].thumbnail_url or "")
    assert Image.open(io.BytesIO(poster.content)).size == (160, 120)
    seek = await ben.download(sent.attachments[0].url, headers={"Range": "bytes=0-9"})
    assert seek.status_code == 206 and len(seek.content) == 10


async def test_without_ffmpeg_a_video_is_a_file_and_voice_still_works(
    media_family: Family, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip, recording = video_mp4(tmp_path), voice_ogg(tmp_path)
    tools_on_path(monkeypatch, tmp_path, keep=False)  # the server finds no ffmpeg from now on
    assert shutil.which("ffmpeg") is None and shutil.which("ffprobe") is None
    anna = await media_family.member("anna", connect=True)
    ben = await media_family.member("ben", connect=True)
    chat = await anna.private_chat(ben.user_id)

    video = (await anna.upload_file(clip, name="clip.mp4")).attachment
    assert video is not None
    assert (video.kind, video.mime_type, video.thumbnail_url, video.blurhash) == (
        "file", "video/mp4", None, None
    )  # fmt: skip
    assert (video.width, video.height, video.duration_ms) == (None, None, None)
    bars = [3, 90, 255, 20]
    told = await anna.upload_file(
        recording, name="voice.ogg", kind="voice", duration_ms=9000, waveform=bars
    )
    untold = await anna.upload_file(recording, name="again.ogg", kind="voice")
    assert told.attachment is not None and untold.attachment is not None
    assert (told.attachment.kind, told.attachment.mime_type) == ("voice", "audio/ogg")
    assert (told.attachment.duration_ms, told.attachment.waveform) == (9000, bars)
    assert (untold.attachment.kind, untold.attachment.duration_ms) == ("voice", None)
    assert untold.attachment.waveform is None

    sent = await anna.send_message(chat.id, attachment_ids=[told.attachment.id])
    assert sent.content == "🎤 Voice message (0:09)"
    received = await ben.inbox.wait_for("messageReceived")
    assert received["id"] == str(sent.id)
    assert (received["attachments"][0]["kind"], received["attachments"][0]["durationMs"]) == (
        "voice", 9000
    )  # fmt: skip
    assert (await ben.download(received["attachments"][0]["url"])).content == recording
    unknown = await anna.send_message(chat.id, attachment_ids=[untold.attachment.id])
    assert unknown.content == "🎤 Voice message"
    as_file = await anna.send_message(chat.id, attachment_ids=[video.id])
    assert as_file.content == "📎 clip.mp4"
    got = await ben.download(as_file.attachments[0].url)
    assert got.content == clip


async def test_processing_runs_off_the_event_loop(
    start_server: StartServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a video is being examined (ffprobe held at a gate the test opens), the same
    server still carries another member's message: processing never blocks its loop (the
    store plays no part: the local one only)."""
    clip = video_mp4(tmp_path)
    real_ffprobe = shutil.which("ffprobe")
    entered, gate = tmp_path / "entered", tmp_path / "gate"
    os.mkfifo(entered)
    os.mkfifo(gate)
    tools_on_path(
        monkeypatch, tmp_path, keep=True,
        ffprobe=f'echo in > "{entered}"\nread -r _ < "{gate}"\nexec "{real_ffprobe}" "$@"\n',
    )  # fmt: skip
    # Both ends stay open in the test (O_RDWR), so neither side's open() ever blocks.
    entered_fd = os.open(entered, os.O_RDWR | os.O_NONBLOCK)
    gate_fd = os.open(gate, os.O_RDWR)
    reached = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(entered_fd, lambda: os.read(entered_fd, 64) and reached.set())
    try:
        family = await start_server()
        anna = await family.member("anna", connect=True)
        ben = await family.member("ben", connect=True)
        chat = await anna.private_chat(ben.user_id)
        upload = await anna.upload_file(clip, name="clip.mp4", wait=False)
        await asyncio.wait_for(reached.wait(), 20)  # processing is inside ffprobe, held

        sent = await asyncio.wait_for(ben.send_message(chat.id, "still there?"), 10)
        received = await anna.inbox.wait_for("messageReceived")
        assert received["id"] == str(sent.id)
        assert (await anna.upload_status(upload.id)).status == "processing"
    finally:
        loop.remove_reader(entered_fd)
        os.write(gate_fd, b"go\n")
    done = await anna.upload_status(upload.id, wait=True)
    assert done.attachment is not None and done.attachment.kind == "video"
    os.close(entered_fd)
    os.close(gate_fd)
