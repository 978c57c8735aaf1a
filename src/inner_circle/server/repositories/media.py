"""Media queries: uploads, blobs, attachments. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from inner_circle.server.db.driver_sql import DriverSQL, as_uuid
from inner_circle.server.db.models import Attachment, Blob, Message, Upload, User
from inner_circle.server.repositories.inserts import insert_object

__all__ = [
    "IN_PROGRESS",
    "attachment_with_blob",
    "bind",
    "blob",
    "by_ids",
    "delete_blobs",
    "detach_messages",
    "for_messages",
    "insert_attachment",
    "insert_blob",
    "media_page",
    "processing_ids",
    "stale_attachments",
    "stale_uploads",
    "stored_total",
    "unattached",
    "unreferenced",
    "upload_of",
    "usage_by_member",
    "usage_of",
]

IN_PROGRESS = ("uploading", "processing")


async def usage_of(session: AsyncSession, user_id: uuid.UUID) -> int:
    """What counts against a member's quota: their files and unfinished uploads."""
    files = await session.scalar(
        select(func.coalesce(func.sum(Attachment.size), 0)).where(Attachment.user_id == user_id)
    )
    pending = await session.scalar(
        select(func.coalesce(func.sum(Upload.size), 0)).where(
            Upload.user_id == user_id, Upload.status.in_(IN_PROGRESS)
        )
    )
    return int(files or 0) + int(pending or 0)


async def upload_of(
    session: AsyncSession, upload_id: uuid.UUID, user_id: uuid.UUID | None = None
) -> Upload | None:
    query = select(Upload).where(Upload.id == upload_id)
    if user_id is not None:
        query = query.where(Upload.user_id == user_id)
    return (await session.scalars(query)).first()


async def blob(session: AsyncSession, sha256: str) -> Blob | None:
    return await session.get(Blob, sha256)


async def insert_blob(session: AsyncSession, draft: Blob) -> None:
    """Store a blob row; one that a concurrent identical upload stored first is kept."""
    await insert_object(session, draft, unique=[Blob.sha256])


async def insert_attachment(session: AsyncSession, draft: Attachment) -> None:
    """Store an attachment row; one already stored under its id is kept."""
    await insert_object(session, draft, unique=[Attachment.id])


async def processing_ids(session: AsyncSession) -> list[uuid.UUID]:
    return list(await session.scalars(select(Upload.id).where(Upload.status == "processing")))


async def attachment_with_blob(
    session: AsyncSession, attachment_id: uuid.UUID
) -> tuple[Attachment, Blob] | None:
    row = (
        await session.execute(
            select(Attachment, Blob)
            .join(Blob, Blob.sha256 == Attachment.blob_sha)
            .where(Attachment.id == attachment_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def unattached(
    session: AsyncSession, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Attachment]:
    """Attachments among ``ids`` not yet bound to a message (any uploader)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = await session.scalars(
        select(Attachment).where(Attachment.id.in_(wanted), Attachment.message_id.is_(None))
    )
    return {row.id: row for row in rows}


async def by_ids(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Attachment]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(Attachment).where(Attachment.id.in_(wanted)))
    return {row.id: row for row in rows}


async def bind(
    session: AsyncSession,
    attachment_ids: Sequence[uuid.UUID],
    *,
    message_id: uuid.UUID,
    chat_id: uuid.UUID,
    seq: int,
) -> None:
    """Tie finished uploads to their message (in the send's transaction); their upload
    rows are no longer needed."""
    for position, attachment_id in enumerate(attachment_ids):
        await session.execute(
            update(Attachment)
            .where(Attachment.id == attachment_id)
            .values(message_id=message_id, chat_id=chat_id, message_seq=seq, position=position)
        )
    await session.execute(delete(Upload).where(Upload.id.in_(list(attachment_ids))))


# Most history pages hold no file: asked first, straight on the driver (ADR 5).
_WITH_ATTACHMENTS = DriverSQL(
    'SELECT DISTINCT "messageId" FROM attachments WHERE "messageId" = ANY(:ids)'
)


async def for_messages(
    session: AsyncSession, message_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[Attachment, Blob]]]:
    wanted = list(dict.fromkeys(message_ids))
    if not wanted:
        return {}
    result = await _WITH_ATTACHMENTS.run(session, {"ids": wanted})
    wanted = [as_uuid(message_id) for (message_id,) in result.all()]
    if not wanted:
        return {}
    rows = await session.execute(
        select(Attachment, Blob)
        .join(Blob, Blob.sha256 == Attachment.blob_sha)
        .where(Attachment.message_id.in_(wanted))
        .order_by(Attachment.position)
    )
    found: dict[uuid.UUID, list[tuple[Attachment, Blob]]] = {}
    for attachment, stored in rows:
        assert attachment.message_id is not None
        found.setdefault(attachment.message_id, []).append((attachment, stored))
    return found


async def detach_messages(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> set[str]:
    """Delete the attachments of these messages; the blobs they used."""
    shas = set(
        await session.scalars(
            select(Attachment.blob_sha).where(Attachment.message_id.in_(list(message_ids)))
        )
    )
    await session.execute(delete(Attachment).where(Attachment.message_id.in_(list(message_ids))))
    return shas


async def unreferenced(session: AsyncSession, shas: Iterable[str]) -> list[Blob]:
    """The blobs among ``shas`` that no attachment uses any more."""
    wanted = list(shas)
    if not wanted:
        return []
    used = select(Attachment.id).where(Attachment.blob_sha == Blob.sha256).exists()
    return list(await session.scalars(select(Blob).where(Blob.sha256.in_(wanted), ~used)))


async def delete_blobs(session: AsyncSession, shas: Sequence[str]) -> None:
    await session.execute(delete(Blob).where(Blob.sha256.in_(list(shas))))


async def media_page(
    session: AsyncSession,
    chat_id: uuid.UUID,
    *,
    kinds: Sequence[str],
    before: tuple[int, int] | None,
    visible_after: int,
    limit: int,
) -> list[tuple[Attachment, Blob, datetime]]:
    """A chat's files with their message's time, newest first (by the message's place,
    then the file's position in it)."""
    query = (
        select(Attachment, Blob, Message.created_at)
        .join(Blob, Blob.sha256 == Attachment.blob_sha)
        .join(Message, Message.id == Attachment.message_id)
        .where(Attachment.chat_id == chat_id, Attachment.message_seq > visible_after)
    )
    if kinds:
        query = query.where(Attachment.kind.in_(list(kinds)))
    if before is not None:
        query = query.where(tuple_(Attachment.message_seq, Attachment.position) < before)
    query = query.order_by(Attachment.message_seq.desc(), Attachment.position.desc()).limit(limit)
    return [(a, b, created) for a, b, created in (await session.execute(query))]


async def usage_by_member(session: AsyncSession) -> list[tuple[User, int, int]]:
    """(member, bytes, files) for every member, files and unfinished uploads counted."""
    files = (
        select(
            Attachment.user_id.label("user_id"),
            func.sum(Attachment.size).label("bytes"),
            func.count().label("files"),
        )
        .group_by(Attachment.user_id)
        .subquery()
    )
    pending = (
        select(Upload.user_id.label("user_id"), func.sum(Upload.size).label("bytes"))
        .where(Upload.status.in_(IN_PROGRESS))
        .group_by(Upload.user_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            User,
            func.coalesce(files.c.bytes, 0) + func.coalesce(pending.c.bytes, 0),
            func.coalesce(files.c.files, 0),
        )
        .outerjoin(files, files.c.user_id == User.id)
        .outerjoin(pending, pending.c.user_id == User.id)
        .order_by(User.username)
    )
    return [(user, int(used), int(count)) for user, used, count in rows]


async def stored_total(session: AsyncSession) -> tuple[int, int]:
    """(bytes held by the store, distinct contents)."""
    row = (
        await session.execute(
            select(func.coalesce(func.sum(Blob.stored_bytes), 0), func.count(Blob.sha256))
        )
    ).one()
    return int(row[0]), int(row[1])


async def stale_uploads(session: AsyncSession, older_than: datetime) -> list[Upload]:
    """Uploads untouched since ``older_than`` that never became an attachment."""
    return list(
        await session.scalars(
            select(Upload).where(
                Upload.updated_at < older_than,
                or_(Upload.status != "ready", Upload.status.is_(None)),
            )
        )
    )


async def stale_attachments(session: AsyncSession, older_than: datetime) -> list[Attachment]:
    """Finished uploads never sent in a message since ``older_than``."""
    return list(
        await session.scalars(
            select(Attachment).where(
                Attachment.message_id.is_(None), Attachment.created_at < older_than
            )
        )
    )
