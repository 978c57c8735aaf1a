"""The family's history (or one member's) as a JSON document, for the CLI and for tests."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inner_circle import __version__
from inner_circle.server.media.runtime import blob_key
from inner_circle.server.ops.backup import OpsError, with_engine
from inner_circle.server.settings import Settings

__all__ = ["EXPORT_FORMAT", "export_history"]

EXPORT_FORMAT = "inner-circle-export"


async def _document(settings: Settings, user: str | None) -> dict[str, Any]:
    return await with_engine(settings.resolved_database_url, _exporter(user))


def export_history(settings: Settings, output: Path, *, user: str | None = None) -> dict[str, Any]:
    """Write members, chats and messages (only ``user``'s chats when given) to ``output``
    (0600) and return the document. Raises OpsError for an unknown member."""
    import asyncio

    try:
        document = asyncio.run(_document(settings, user))
    except LookupError as exc:
        raise OpsError(str(exc)) from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, indent=2)
    return document


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _exporter(username: str | None) -> Any:
    async def work(connection: Any) -> dict[str, Any]:
        from sqlalchemy import select

        from inner_circle.server.db.models import (
            Attachment,
            Blob,
            Chat,
            ChatParticipant,
            Message,
            User,
        )

        users = (await connection.execute(select(User).order_by(User.created_at))).all()
        by_id = {u.id: u for u in users}
        member = None
        if username is not None:
            member = next((u for u in users if u.username.lower() == username.lower()), None)
            if member is None:
                raise LookupError(f"no member named {username!r}")
        participants: dict[uuid.UUID, list[uuid.UUID]] = {}
        for row in await connection.execute(
            select(ChatParticipant).order_by(ChatParticipant.joined_at)
        ):
            participants.setdefault(row.chatId, []).append(row.userId)
        files: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for row in await connection.execute(
            select(
                Attachment.id,
                Attachment.message_id,
                Attachment.kind,
                Attachment.name,
                Attachment.mime_type,
                Attachment.size,
                Blob.sha256,
            )
            .join(Blob, Blob.sha256 == Attachment.blob_sha)
            .where(Attachment.message_id.is_not(None))
            .order_by(Attachment.position)
        ):
            files.setdefault(row.messageId, []).append(
                {
                    "id": str(row.id),
                    "kind": row.kind,
                    "name": row.name,
                    "mimeType": row.mimeType,
                    "size": row.size,
                    "sha256": row.sha256,
                    # Where the bytes are in the media store (the data folder's media/).
                    "file": blob_key(row.sha256, "original"),
                }
            )
        chats = []
        for chat in (await connection.execute(select(Chat).order_by(Chat.created_at))).all():
            members = participants.get(chat.id, [])
            if member is not None and member.id not in members:
                continue
            messages = (
                await connection.execute(
                    select(Message).where(Message.chat_id == chat.id).order_by(Message.seq)
                )
            ).all()
            chats.append(
                {
                    "id": str(chat.id),
                    "type": chat.type,
                    "name": chat.name,
                    "createdAt": _iso(chat.createdAt),
                    "participantIds": [str(m) for m in members],
                    "messages": [
                        {
                            "id": str(m.id),
                            "seq": m.seq,
                            "senderId": str(m.senderId),
                            "sender": by_id[m.senderId].username if m.senderId in by_id else None,
                            "content": m.content,
                            "createdAt": _iso(m.createdAt),
                            "updatedAt": _iso(m.updatedAt),
                            "attachments": files.get(m.id, []),
                        }
                        for m in messages
                    ],
                }
            )
        return {
            "format": EXPORT_FORMAT,
            "version": 1,
            "appVersion": __version__,
            "exportedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "scope": "member" if member is not None else "family",
            "member": member.username if member is not None else None,
            "members": [
                {
                    "id": str(u.id),
                    "username": u.username,
                    "displayName": u.displayName or u.username,
                    "isAdmin": u.isAdmin,
                    "isActive": u.isActive,
                    "createdAt": _iso(u.createdAt),
                }
                for u in users
            ],
            "chats": chats,
        }

    return work
