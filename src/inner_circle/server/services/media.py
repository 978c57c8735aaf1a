"""Media use cases: attachments on messages, downloads, the chat's files, storage use.

The bytes never pass through the database: uploads (``services/uploads.py``) are staged in
the data folder, then moved into the media store under the SHA-256 of their content (one
copy per content). Rows (``uploads``, ``blobs``, ``attachments``) say who may see what.
See docs/media.md.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from inner_circle.core.actor import Actor
from inner_circle.core.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    InnerCircleError,
    NotFound,
    ValidationFailed,
)
from inner_circle.protocol.rest import (
    AttachmentOut,
    ChatMediaItem,
    ChatMediaPage,
    MemberStorage,
    MessageOut,
    StorageOut,
)
from inner_circle.server.access import access_chat
from inner_circle.server.db.models import Attachment, Blob
from inner_circle.server.db.uow import UnitOfWork, UnitOfWorkFactory
from inner_circle.server.media.runtime import MediaRuntime, blob_key
from inner_circle.server.repositories import media as media_repo

__all__ = [
    "Download",
    "attachment_for",
    "attachment_out",
    "chat_media",
    "clean_orphans",
    "copies",
    "download",
    "drop_unattached",
    "fallback_text",
    "hydrate",
    "release_messages",
    "runtime",
    "storage_usage",
    "take_attachments",
]

KINDS = ("image", "video", "audio", "voice", "file")


def runtime(uow: UnitOfWork | UnitOfWorkFactory) -> MediaRuntime:
    media = uow.ctx.media
    if media is None:
        raise RuntimeError("media is not configured")
    return media


# --- attachments on messages -------------------------------------------------------------


async def take_attachments(
    uow: UnitOfWork, wanted: Sequence[tuple[Actor, Sequence[uuid.UUID]]]
) -> list[list[Attachment] | InnerCircleError]:
    """Check, for each send, that its ids are ready uploads of its sender not attached
    before (nor twice in this batch); the attachments in order, or the error of that send.
    """
    found = await media_repo.unattached(uow.session, [i for _, ids in wanted for i in ids])
    pending = {}
    missing = {i for _, ids in wanted for i in ids} - found.keys()
    if missing:
        for upload_id in missing:
            upload = await media_repo.upload_of(uow.session, upload_id)
            if upload is not None:
                pending[upload_id] = upload
    taken: set[uuid.UUID] = set()
    results: list[list[Attachment] | InnerCircleError] = []
    for actor, ids in wanted:
        result: list[Attachment] | InnerCircleError = []
        for attachment_id in ids:
            attachment = found.get(attachment_id)
            upload = pending.get(attachment_id)
            if upload is not None and upload.user_id == actor.id:
                result = Conflict(
                    f"Upload {attachment_id} is not ready ({upload.status})",
                    ErrorCode.UPLOAD_CONFLICT,
                )
                break
            if attachment is None or attachment.user_id != actor.id or attachment_id in taken:
                result = ValidationFailed(
                    f"attachmentIds: {attachment_id} is not a finished upload of yours"
                )
                break
            result.append(attachment)
        if isinstance(result, list):
            taken.update(a.id for a in result)
        results.append(result)
    return results


async def copies(
    uow: UnitOfWork, actor: Actor, attachment_ids: Sequence[uuid.UUID]
) -> list[Attachment]:
    """New, unbound attachments of ``actor`` holding the same files as ``attachment_ids``
    (a forward; the caller checked the actor may read them). The stored bytes are shared:
    a file goes once no attachment uses it."""
    found = await media_repo.by_ids(uow.session, attachment_ids)
    now = uow.ctx.clock.now()
    made = []
    for attachment_id in attachment_ids:
        source = found[attachment_id]
        copy = Attachment(
            id=uuid.uuid4(),
            user_id=actor.id,
            blob_sha=source.blob_sha,
            kind=source.kind,
            name=source.name,
            size=source.size,
            mime_type=source.mime_type,
            duration_ms=source.duration_ms,
            waveform=source.waveform,
            position=source.position,
            created_at=now,
        )
        await media_repo.insert_attachment(uow.session, copy)
        made.append(copy)
    return made


def fallback_text(attachments: Sequence[Attachment]) -> str:
    """What clients that know no attachments show for a message without a caption."""
    kinds = {a.kind for a in attachments}
    count = len(attachments)
    if kinds == {"image"}:
        return "📷 Photo" if count == 1 else f"📷 {count} photos"
    if kinds == {"video"}:
        return "🎬 Video" if count == 1 else f"🎬 {count} videos"
    if count == 1 and kinds == {"voice"}:
        if attachments[0].duration_ms is None:  # no ffmpeg and the recorder did not say
            return "🎤 Voice message"
        seconds = round(attachments[0].duration_ms / 1000)
        return f"🎤 Voice message ({seconds // 60}:{seconds % 60:02d})"
    if count == 1 and kinds == {"audio"}:
        return f"🎵 {attachments[0].name}"
    if count == 1:
        return f"📎 {attachments[0].name}"
    return f"📎 {count} files"


async def bind(
    uow: UnitOfWork,
    attachments: Sequence[Attachment],
    *,
    message_id: uuid.UUID,
    chat_id: uuid.UUID,
    seq: int,
) -> None:
    await media_repo.bind(
        uow.session, [a.id for a in attachments], message_id=message_id, chat_id=chat_id, seq=seq
    )


async def attachment_out(uow: UnitOfWork, attachment: Attachment, stored: Blob) -> AttachmentOut:
    """The wire form with fresh signed URLs (give it only to who may see the file)."""
    media = runtime(uow)
    now = uow.ctx.clock.now().timestamp()
    variants = stored.variants.split(",")

    async def url(variant: str) -> str | None:
        if variant not in variants:
            return None
        return await media.url(
            attachment.id, stored.sha256, variant, stored.mime_type, attachment.name, now
        )

    original = await url("original")
    assert original is not None
    return AttachmentOut(
        id=attachment.id,
        kind=attachment.kind,  # type: ignore[arg-type]
        name=attachment.name,
        size=attachment.size,
        mime_type=attachment.mime_type,
        width=stored.width,
        height=stored.height,
        duration_ms=attachment.duration_ms,
        waveform=json.loads(attachment.waveform) if attachment.waveform else None,
        blurhash=stored.blurhash,
        thumbnail_url=await url("thumb"),
        preview_url=await url("preview"),
        url=original,
    )


async def hydrate(uow: UnitOfWork, messages: Sequence[MessageOut]) -> None:
    """Fill ``attachments`` of these messages (one query), with signed URLs."""
    if uow.ctx.media is None or not messages:
        return
    found = await media_repo.for_messages(
        uow.session, [m.id for m in messages if m.deleted_at is None]
    )
    for message in messages:
        rows = found.get(message.id, ())
        message.attachments = [await attachment_out(uow, a, b) for a, b in rows]


async def release_messages(uow: UnitOfWork, message_ids: Sequence[uuid.UUID]) -> None:
    """Delete the files of deleted messages for everyone: their attachments now, a stored
    content once no attachment uses it (after the commit)."""
    if uow.ctx.media is None:
        return
    shas = await media_repo.detach_messages(uow.session, message_ids)
    await _release_blobs(uow, shas)


async def drop_unattached(uow: UnitOfWork, attachment_ids: Sequence[uuid.UUID]) -> None:
    found = await media_repo.unattached(uow.session, attachment_ids)
    for attachment in found.values():
        await uow.session.delete(attachment)
    await uow.session.flush()
    await _release_blobs(uow, {a.blob_sha for a in found.values()})


async def _release_blobs(uow: UnitOfWork, shas: set[str]) -> None:
    gone = await media_repo.unreferenced(uow.session, shas)
    if not gone:
        return
    await media_repo.delete_blobs(uow.session, [b.sha256 for b in gone])
    keys = [blob_key(b.sha256, v) for b in gone for v in b.variants.split(",")]
    store = runtime(uow).store

    async def delete_files() -> None:
        await store.delete(keys)

    uow.after_commit(delete_files)


# --- reading -----------------------------------------------------------------------------


async def attachment_for(uow: UnitOfWork, actor: Actor, attachment_id: uuid.UUID) -> AttachmentOut:
    """An attachment with fresh URLs, for a participant of its chat (or its uploader
    before it is sent). Raises NotFound otherwise."""
    found = await media_repo.attachment_with_blob(uow.session, attachment_id)
    if found is None:
        raise NotFound("File not found")
    attachment, stored = found
    if attachment.chat_id is None or attachment.message_seq is None:
        if attachment.user_id != actor.id:
            raise NotFound("File not found")
    else:
        _, participant = await access_chat(uow, actor, attachment.chat_id)
        if attachment.message_seq <= participant.history_from_seq:
            raise NotFound("File not found")
    return await attachment_out(uow, attachment, stored)


@dataclass(frozen=True, slots=True)
class Download:
    """What the download edge needs of a stored file, read inside the transaction."""

    name: str
    sha256: str
    mime_type: str
    size: int


async def download(uow: UnitOfWork, attachment_id: uuid.UUID, variant: str) -> Download:
    """The stored file behind a signed URL (the signature was checked by the edge).
    Raises NotFound when it was deleted or has no such variant."""
    found = await media_repo.attachment_with_blob(uow.session, attachment_id)
    if found is None or variant not in found[1].variants.split(","):
        raise NotFound("File not found")
    attachment, stored = found
    return Download(attachment.name, stored.sha256, stored.mime_type, stored.size)


def _cursor(before: str | None) -> tuple[int, int] | None:
    if before is None:
        return None
    try:
        seq, position = (int(part) for part in before.split(".", 1))
    except ValueError as exc:
        raise ValidationFailed("before: not a cursor from nextBefore") from exc
    return seq, position


async def chat_media(
    uow: UnitOfWork,
    actor: Actor,
    chat_id: uuid.UUID,
    *,
    kinds: Sequence[str],
    before: str | None,
    limit: int,
) -> ChatMediaPage:
    """The chat's files, newest first, keyset paged; only those the actor may read.
    Raises NotFound when the actor is not in the chat; ValidationFailed for a bad cursor."""
    _, participant = await access_chat(uow, actor, chat_id)
    rows = await media_repo.media_page(
        uow.session,
        chat_id,
        kinds=kinds,
        before=_cursor(before),
        visible_after=participant.history_from_seq,
        limit=limit + 1,
    )
    items = [
        ChatMediaItem(
            attachment=await attachment_out(uow, attachment, stored),
            message_id=attachment.message_id,  # type: ignore[arg-type]
            sender_id=attachment.user_id,
            created_at=created,
        )
        for attachment, stored, created in rows[:limit]
    ]
    next_before = None
    if len(rows) > limit:
        last = rows[limit - 1][0]
        next_before = f"{last.message_seq}.{last.position}"
    return ChatMediaPage(items=items, next_before=next_before)


async def storage_usage(uow: UnitOfWork, actor: Actor) -> StorageOut:
    """Storage used overall and per member (admins only). Raises Forbidden (ADMIN_ONLY)."""
    if not actor.is_admin:
        raise Forbidden("Only an admin may see storage use", ErrorCode.ADMIN_ONLY)
    total, count = await media_repo.stored_total(uow.session)
    quota = runtime(uow).quota_bytes
    members = [
        MemberStorage(
            user_id=user.id,
            username=user.username,
            display_name=user.shown_name,
            bytes=used,
            files=files,
            quota_bytes=quota,
        )
        for user, used, files in await media_repo.usage_by_member(uow.session)
    ]
    return StorageOut(total_bytes=total, file_count=count, members=members)


async def clean_orphans(uow: UnitOfWork) -> int:
    """Delete uploads never finished, and finished ones never sent, older than the orphan
    age (a day by default); returns how many. Their staged bytes go after the commit."""
    media = runtime(uow)
    cutoff = uow.ctx.clock.now() - timedelta(seconds=media.orphan_seconds)
    uploads = await media_repo.stale_uploads(uow.session, cutoff)
    attachments = await media_repo.stale_attachments(uow.session, cutoff)
    ids = [u.id for u in uploads]
    for upload in uploads:
        await uow.session.delete(upload)
    stale_ready = [a.id for a in attachments]
    for upload_id in stale_ready:
        leftover = await media_repo.upload_of(uow.session, upload_id)
        if leftover is not None:
            await uow.session.delete(leftover)
    await drop_unattached(uow, stale_ready)

    async def discard() -> None:
        for upload_id in ids:
            media.discard(upload_id)

    uow.after_commit(discard)
    return len(ids) + len(stale_ready)
