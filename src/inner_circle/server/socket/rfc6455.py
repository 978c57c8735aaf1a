"""The parts of RFC 6455 (WebSocket) the direct Engine.IO transport needs: frames, the
accept key, the upgrade request as uvicorn hands it over (socket/websocket.py)."""

from __future__ import annotations

import base64
import hashlib
import struct

__all__ = ["accept_key", "frame", "parse_upgrade", "unmask"]

ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009
CLOSE_RESTART = 1012


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final frame (a server's frames are never masked)."""
    size = len(payload)
    if size < 126:
        return bytes((0x80 | opcode, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", 0x80 | opcode, 126, size) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, size) + payload


def unmask(payload: bytes, mask: bytes) -> bytes:
    """XOR with the repeated 4-byte key, as one big-integer operation (C speed)."""
    size = len(payload)
    if not size:
        return b""
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
        size, "little"
    )


def accept_key(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + ACCEPT_GUID).digest())


def parse_upgrade(
    request: bytes,
) -> tuple[bytes, bytes, bytes, list[tuple[bytes, bytes]]] | None:
    """uvicorn hands over the request as it rebuilt it: a request line, lower-case header
    names, an empty line."""
    head, _, _ = request.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3:
        return None
    method, target, _ = parts
    raw_path, _, query = target.partition(b"?")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b": ")
        if not sep:
            return None
        headers.append((name.lower(), value))
    return method, raw_path, query, headers
