"""Processing of one uploaded file, run in a worker thread (blocking I/O, CPU).

Learns what the content is and makes what members download: images get their orientation
applied and their metadata (EXIF, GPS, XMP, comments) removed, two WebP thumbnails and a
BlurHash; videos a poster frame and their duration (with ffmpeg); audio its duration and
a waveform. Decompression bombs and malformed images are refused (:class:`Refused`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import blurhash
from PIL import Image, ImageOps

from inner_circle.server.media.sniff import HEAD_BYTES, sniff

__all__ = ["Processed", "Refused", "process", "sha256_of"]

THUMB_SIDE = 320
PREVIEW_SIDE = 1280
WAVEFORM_BARS = 64
WAVEFORM_MAX_SECONDS = 30 * 60  # longer audio gets no computed waveform
TOOL_TIMEOUT = 60.0
# Image formats we re-encode without metadata (and GIF, frame by frame: _clean_gif).
_SAVE = {
    "image/jpeg": ("JPEG", {"quality": 92}),
    "image/png": ("PNG", {}),
    "image/webp": ("WEBP", {"quality": 90}),
}
_AUDIO_CONTAINERS = {"audio/ogg", "audio/webm", "video/webm", "audio/mp4", "video/mp4"}


class Refused(Exception):
    """The file cannot be accepted (too many pixels, malformed); the message is safe to show."""


@dataclass
class Processed:
    mime_type: str
    kind: str  # image | video | audio | file
    size: int = 0  # of the served original
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    blurhash: str | None = None
    waveform: list[int] | None = None
    # variant name -> file to store; "original" always present.
    files: dict[str, Path] = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def process(path: Path, work: Path, *, max_pixels: int, audio_hint: bool) -> Processed:
    """Examine the complete upload at ``path``; variants are written into ``work``.
    ``audio_hint``: the client recorded a voice message (an audio-only WebM/MP4 is then
    audio even when ffprobe cannot tell)."""
    with path.open("rb") as handle:
        mime = sniff(handle.read(HEAD_BYTES))
    if mime in _SAVE or mime == "image/gif":
        result = _image(path, work, mime, max_pixels)
    elif mime.startswith(("video/", "audio/")):
        result = _timed(path, work, mime, max_pixels, audio_hint)
    else:
        result = Processed(mime, "file")
    result.files.setdefault("original", path)
    result.size = result.files["original"].stat().st_size
    return result


def _open_checked(path: Path, max_pixels: int) -> Image.Image:
    image: Image.Image | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            width, height = image.size
            if width * height > max_pixels:
                raise Refused(f"The image has more than {max_pixels} pixels")
            image.load()
    except Exception as exc:
        if image is not None:
            image.close()
        if isinstance(exc, Refused):
            raise
        if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
            raise Refused("The image is too large when decompressed") from exc
        raise Refused("The image is malformed") from exc  # Pillow raises many kinds
    return image


def _image(path: Path, work: Path, mime: str, max_pixels: int) -> Processed:
    with _open_checked(path, max_pixels) as image:
        return _clean_image(image, work, mime, max_pixels)


def _clean_image(image: Image.Image, work: Path, mime: str, max_pixels: int) -> Processed:
    result = Processed(mime, "image")
    upright = ImageOps.exif_transpose(image) or image
    result.width, result.height = upright.size
    if mime == "image/gif":
        _clean_gif(image, work, result, max_pixels)
    elif mime in _SAVE:
        fmt, options = _SAVE[mime]
        clean = work / "original"
        saved = upright
        if fmt == "JPEG" and saved.mode not in ("RGB", "L", "CMYK"):
            saved = saved.convert("RGB")
        icc = image.info.get("icc_profile")  # colours, not private: kept
        extra = {"icc_profile": icc} if icc else {}
        saved.save(clean, fmt, **options, **extra)  # no exif=: metadata is dropped
        result.files["original"] = clean
    _thumbnails(upright, work, result)
    return result


def _clean_gif(image: Image.Image, work: Path, result: Processed, max_pixels: int) -> None:
    """Every frame again, without comments or XMP (a GIF has no EXIF, but text can say
    anything)."""
    frames = getattr(image, "n_frames", 1)
    if frames * image.size[0] * image.size[1] > 4 * max_pixels:
        raise Refused(f"The animation has more than {4 * max_pixels} pixels in all")
    for key in ("comment", "xmp", "extension"):
        image.info.pop(key, None)
    clean = work / "original"
    image.save(clean, "GIF", save_all=True)
    image.seek(0)
    result.files["original"] = clean


def _thumbnails(image: Image.Image, work: Path, result: Processed) -> None:
    frame = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    for name, side in (("thumb", THUMB_SIDE), ("preview", PREVIEW_SIDE)):
        copy = frame.copy()
        copy.thumbnail((side, side))
        target = work / name
        copy.save(target, "WEBP", quality=80)
        result.files[name] = target
    tiny = frame.convert("RGB")
    tiny.thumbnail((32, 32))  # a BlurHash is a few colours: a small image is plenty
    width, height = tiny.size
    raw = tiny.tobytes()
    rows = [
        [list(raw[(y * width + x) * 3 : (y * width + x) * 3 + 3]) for x in range(width)]
        for y in range(height)
    ]
    result.blurhash = blurhash.encode(rows, components_x=4, components_y=3)


def _probe(path: Path) -> dict[str, object] | None:
    if shutil.which("ffprobe") is None:
        return None
    try:
        done = subprocess.run(
            ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
             "-show_format", str(path)],
            capture_output=True, timeout=TOOL_TIMEOUT, check=True,
        )  # fmt: skip
        found: dict[str, object] = json.loads(done.stdout)
        return found
    except (subprocess.SubprocessError, ValueError, OSError):
        return None


def _timed(path: Path, work: Path, mime: str, max_pixels: int, audio_hint: bool) -> Processed:
    probe = _probe(path)
    if probe is None:
        # No ffmpeg (or a file it cannot read): a recorded voice message stays audio,
        # anything else is a plain file.
        if audio_hint and mime in _AUDIO_CONTAINERS:
            return Processed(_audio_type(mime), "audio")
        return Processed(mime, "file")
    streams = [s for s in probe.get("streams", []) if isinstance(s, dict)]  # type: ignore[union-attr]
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")), None)  # fmt: skip
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    fmt = probe.get("format") if isinstance(probe.get("format"), dict) else {}
    duration = _duration_ms(fmt)  # type: ignore[arg-type]
    if video is not None and not audio_hint:
        result = Processed(mime, "video", duration_ms=duration)
        _poster(path, work, result, max_pixels)
        return result
    if audio is not None:
        result = Processed(_audio_type(mime), "audio", duration_ms=duration)
        if duration is not None and duration <= WAVEFORM_MAX_SECONDS * 1000:
            result.waveform = _waveform(path)
        return result
    return Processed(mime, "file")


def _audio_type(mime: str) -> str:
    return "audio/" + mime.partition("/")[2] if mime.startswith("video/") else mime


def _duration_ms(fmt: dict[str, object]) -> int | None:
    try:
        seconds = float(str(fmt.get("duration")))
    except ValueError:
        return None
    return round(seconds * 1000) if seconds > 0 else None


def _poster(path: Path, work: Path, result: Processed, max_pixels: int) -> None:
    frame = work / "poster.png"
    at = "1" if (result.duration_ms or 0) > 2000 else "0"
    try:
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-ss", at, "-i", str(path), "-frames:v", "1",
             "-f", "image2", "-c:v", "png", str(frame)],
            capture_output=True, timeout=TOOL_TIMEOUT, check=True,
        )  # fmt: skip
        image = _open_checked(frame, max_pixels)
    except (subprocess.SubprocessError, OSError, Refused):
        return  # a video without a poster is still a video
    with image:
        result.width, result.height = image.size
        _thumbnails(image, work, result)


def _waveform(path: Path) -> list[int] | None:
    try:
        done = subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "4000",
             "-f", "s16le", "-"],
            capture_output=True, timeout=TOOL_TIMEOUT, check=True,
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError):
        return None
    samples = memoryview(done.stdout).cast("h") if len(done.stdout) % 2 == 0 else None
    if not samples:
        return None
    step = max(1, len(samples) // WAVEFORM_BARS)
    peaks = [max(abs(v) for v in samples[i : i + step]) for i in range(0, len(samples), step)]
    top = max(peaks) or 1
    return [round(p * 255 / top) for p in peaks[:WAVEFORM_BARS]]
