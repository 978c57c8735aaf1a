"""Voice messages (Opus; duration and waveform) and videos (poster, duration), sent over
Socket.IO as the web client does."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from inner_circle.sdk.errors import InnerCircleAPIError
from tests.media.conftest import ffmpeg_file, video_mp4, voice_ogg
from tests.support import Family


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
