"""What a file really is, from its first bytes (never from its name or a client's claim)."""

from __future__ import annotations

import filetype

__all__ = ["HEAD_BYTES", "INLINE_TYPES", "disposition", "served_as", "sniff"]

HEAD_BYTES = 8192

# Types served inline from our origin: raster images, audio, video. Everything else is a
# download (Content-Disposition: attachment) under a sandboxing CSP.
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "audio/ogg",
        "audio/webm",
        "audio/mp4",
        "audio/mpeg",
        "audio/aac",
        "audio/wav",
        "audio/x-wav",
        "audio/flac",
        "audio/x-flac",
        "video/mp4",
        "video/webm",
        "video/quicktime",
        "video/ogg",
    }
)

# filetype's names for some types, as browsers know them.
_ALIASES = {"audio/m4a": "audio/mp4", "audio/x-m4a": "audio/mp4", "video/x-m4v": "video/mp4"}


def sniff(head: bytes) -> str:
    """The MIME type the content has; ``application/octet-stream`` when unknown. Text
    (HTML, SVG, scripts) is ``text/plain``: it is never served as markup."""
    kind = filetype.guess(head)
    if kind is not None:
        return _ALIASES.get(kind.mime, kind.mime)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the head is still text.
        try:
            head[:-4].decode("utf-8")
        except UnicodeDecodeError:
            return "application/octet-stream"
    return "text/plain" if head else "application/octet-stream"


def disposition(name: str, *, inline: bool) -> str:
    """A Content-Disposition header for ``name`` (RFC 6266, UTF-8 encoded)."""
    from urllib.parse import quote

    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'").replace("\\", "_")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def served_as(mime: str, variant: str) -> tuple[str, bool]:
    """(Content-Type, inline) for a stored variant: thumbnails are WebP; only images,
    audio and video are shown inline, anything else is an opaque download."""
    if variant != "original":
        return "image/webp", True
    if mime in INLINE_TYPES:
        return mime, True
    safe = mime if mime.startswith("application/") and "xml" not in mime else None
    return safe or "application/octet-stream", False
