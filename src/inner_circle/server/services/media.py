"""Media use cases: uploads (tus), processing, attachments on messages, downloads, storage.

The bytes never pass through the database: uploads are staged in the data folder, then
moved into the media store under the SHA-256 of their content (one copy per content).
Rows (``uploads``, ``blobs``, ``attachments``) say who may see what. See docs/media.md.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from inner_circle.core.actor import Actor
from inner_circle.core.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    InnerCircleError,
    NotFound,
    TooLarge,
    ValidationFailed,
)
from inner_circle.protocol.rest import (
    AttachmentOut,
    ChatMediaItem,
    ChatMediaPage,
    MemberStorage,
    MessageOut,
    StorageOut,
    UploadErrorOut,
    UploadMetadataIn,
    UploadStatusOut,
)
from inner_circle.server.access import access_chat
from inner_circle.server.db.files import PRIVATE_FILE
from inner_circle.server.db.models import Attachment, Blob, Upload
from inner_circle.server.db.uow import UnitOfWork, UnitOfWorkFactory
from inner_circle.server.media.processing import Processed, Refused, process, sha256_of
from inner_circle.server.media.runtime import MediaRuntime, blob_key
from inner_circle.server.repositories import media as media_repo

__all__ = [
    "Download",
    "attachment_for",
    "attachment_out",
    "cancel_upload",
    "chat_media",
    "clean_orphans",
    "create_upload",
    "download",
    "fallback_text",
    "hydrate",
    "process_upload",
    "receive",
    "release_messages",
    "storage_usage",
    "take_attachments",
    "upload_status",
]

log = logging.getLogger(__name__)

KINDS = ("image", "video", "audio", "voice", "file")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")


def runtime(uow: UnitOfWork | UnitOfWorkFactory) -> MediaRuntime:
    media = uow.ctx.media
    if media is None:
        raise RuntimeError("media is not configured")
    return media


def _clean_name(name: str) -> str:
    base = re.split(r"[\\/]", name)[-1]
    base = _UNSAFE_NAME.sub("", base).strip()
    return (base or "file")[:255]


# --- uploads ---------------------------------------------------------------------------


async def create_upload(
    uow: UnitOfWork, actor: Actor, length: int, meta: UploadMetadataIn
) -> UploadStatusOut:
    """Start a tus upload of ``length`` bytes.

    Raises: ValidationFailed for an empty file; TooLarge (PAYLOAD_TOO_LARGE) over the file
    limit, (QUOTA_EXCEEDED) when the member's files and unfinished uploads plus this one
    pass the quota. Nothing is stored then.
    """
    media = runtime(uow)
    if length < 1:
        raise ValidationFailed("Upload-Length must be at least 1 byte")
    if length > media.max_file_bytes:
        raise TooLarge(f"A file may have at most {media.max_file_bytes} bytes")
    if media.quota_bytes:
        used = await media_repo.usage_of(uow.session, actor.id)
        if used + length > media.quota_bytes:
            raise TooLarge(
                f"Storage quota exceeded: {used} of {media.quota_bytes} bytes used",
                ErrorCode.QUOTA_EXCEEDED,
            )
    now = uow.ctx.clock.now()
    upload = Upload(
        id=uuid.uuid4(),
        user_id=actor.id,
        status="uploading",
        size=length,
        offset=0,
        name=_clean_name(meta.filename),
        claimed_type=meta.filetype,
        kind_hint=meta.kind,
        duration_ms=meta.duration_ms,
        waveform=json.dumps(meta.waveform) if meta.waveform else None,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(upload)
    return UploadStatusOut(id=upload.id, status="uploading", offset=0, size=length)


async def upload_status(uow: UnitOfWork, actor: Actor, upload_id: uuid.UUID) -> UploadStatusOut:
    """Where the actor's upload stands. Raises NotFound for anyone else's."""
    upload = await media_repo.upload_of(uow.session, upload_id, actor.id)
    if upload is None:
        found = await media_repo.attachment_with_blob(uow.session, upload_id)
        if found is None or found[0].user_id != actor.id:
            raise NotFound("Upload not found")
        out = await attachment_out(uow, *found)
        return UploadStatusOut(
            id=upload_id, status="ready", offset=out.size, size=out.size, attachment=out
        )
    status = UploadStatusOut(
        id=upload.id,
        status=upload.status,  # type: ignore[arg-type]
        offset=received(runtime(uow), upload),
        size=upload.size,
    )
    if upload.status == "ready":
        found = await media_repo.attachment_with_blob(uow.session, upload.id)
        if found is not None:
            status.attachment = await attachment_out(uow, *found)
    if upload.status == "failed":
        status.error = UploadErrorOut(
            code=upload.error_code or "INTERNAL", message=upload.error or ""
        )
    return status


def received(media: MediaRuntime, upload: Upload) -> int:
    """Bytes received so far: the staged file is the truth while uploading."""
    if upload.status != "uploading":
        return upload.size
    try:
        return media.staged(upload.id).stat().st_size
    except FileNotFoundError:
        return 0


async def receive(
    uows: UnitOfWorkFactory,
    actor: Actor,
    upload_id: uuid.UUID,
    offset: int,
    chunks: AsyncIterable[bytes],
) -> int:
    """Append a tus PATCH body at ``offset``; returns the new offset. Streams to the staged
    file chunk by chunk (never the whole body in memory, no transaction held meanwhile).
    A body cut short keeps what arrived. The last byte starts processing.

    Raises: NotFound; Conflict (UPLOAD_CONFLICT) when ``offset`` is not where the upload
    stands, it is complete, or another PATCH for it runs; TooLarge past ``Upload-Length``.
    """
    media = runtime(uows)
    upload = await _detached(uows, upload_id, actor.id)
    if upload is None:
        raise NotFound("Upload not found")
    if upload.status != "uploading":
        raise Conflict("The upload is complete", ErrorCode.UPLOAD_CONFLICT)
    if not media.claim(upload_id):
        raise Conflict("Another request is writing this upload", ErrorCode.UPLOAD_CONFLICT)
    try:
        path = media.staged(upload_id)
        media.staging.mkdir(parents=True, exist_ok=True, mode=0o700)
        written = path.stat().st_size if path.exists() else 0
        if offset != written:
            raise Conflict(f"The upload is at offset {written}", ErrorCode.UPLOAD_CONFLICT)
        try:
            written = await _append(path, written, upload.size, chunks)
        finally:
            await _record_offset(uows, upload_id, written, complete=written == upload.size)
    finally:
        media.release(upload_id)
    if written == upload.size:
        media.spawn(process_upload(uows, upload_id))
    return written


async def _detached(
    uows: UnitOfWorkFactory, upload_id: uuid.UUID, user_id: uuid.UUID | None = None
) -> Upload | None:
    """The upload row as it is now, usable after its transaction ended."""
    async with uows.read() as uow:
        upload = await media_repo.upload_of(uow.session, upload_id, user_id)
        if upload is not None:
            uow.session.expunge(upload)
        return upload


async def _append(path: Path, written: int, size: int, chunks: AsyncIterable[bytes]) -> int:
    # Appending to a local file lands in the page cache: no blocking worth a thread.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    with os.fdopen(fd, "ab") as handle:
        try:
            async for chunk in chunks:
                room = size - written
                if len(chunk) > room:
                    handle.write(chunk[:room])
                    written = size
                    raise TooLarge("The body goes past Upload-Length")
                handle.write(chunk)
                written += len(chunk)
        finally:
            handle.flush()
    return written


async def _record_offset(
    uows: UnitOfWorkFactory, upload_id: uuid.UUID, written: int, *, complete: bool
) -> None:
    async with uows.write() as uow:
        upload = await media_repo.upload_of(uow.session, upload_id)
        if upload is None or upload.status != "uploading":
            return
        upload.offset = written
        upload.updated_at = uow.ctx.clock.now()
        if complete:
            upload.status = "processing"
        await uow.commit()


async def process_upload(uows: UnitOfWorkFactory, upload_id: uuid.UUID) -> None:
    """Turn a complete upload into an attachment (runs in the background after the last
    PATCH): hash, look for the same content, else examine it in a worker thread and put its
    variants in the store; then the upload is ``ready``, or ``failed`` with the reason."""
    media = runtime(uows)
    upload = await _detached(uows, upload_id)
    if upload is None or upload.status != "processing":
        return
    try:
        path = media.staged(upload_id)
        sha = await media.blocking(sha256_of, path)
        async with uows.read() as uow:
            known = await media_repo.blob(uow.session, sha)
        draft = None if known is not None else await _store(media, upload, sha)
        async with uows.write() as uow:
            if draft is not None:
                await media_repo.insert_blob(uow.session, draft)
            stored = await media_repo.blob(uow.session, sha)
            assert stored is not None
            current = await media_repo.upload_of(uow.session, upload_id)
            if current is None:  # cancelled meanwhile
                return
            uow.session.add(_attachment(upload, stored, uow.ctx.clock.now()))
            current.status = "ready"
            current.updated_at = uow.ctx.clock.now()
            await uow.commit()
    except Refused as exc:
        await _fail(uows, upload_id, ErrorCode.UNSUPPORTED_MEDIA, str(exc))
    except Exception:
        log.exception("processing upload %s failed", upload_id)
        await _fail(uows, upload_id, ErrorCode.INTERNAL, "The file could not be processed")
    finally:
        media.discard(upload_id)


async def _store(media: MediaRuntime, upload: Upload, sha: str) -> Blob:
    work = media.work_dir(upload.id)
    work.mkdir(parents=True, exist_ok=True, mode=0o700)
    done: Processed = await media.blocking(
        process,
        media.staged(upload.id),
        work,
        max_pixels=media.max_pixels,
        audio_hint=upload.kind_hint == "voice",
    )
    stored_bytes = 0
    for variant, file in done.files.items():
        content_type = done.mime_type if variant == "original" else "image/webp"
        await media.store.put(blob_key(sha, variant), file, content_type)
        stored_bytes += file.stat().st_size
    return Blob(
        sha256=sha,
        size=done.size,
        stored_bytes=stored_bytes,
        mime_type=done.mime_type,
        kind=done.kind,
        width=done.width,
        height=done.height,
        duration_ms=done.duration_ms,
        blurhash=done.blurhash,
        waveform=json.dumps(done.waveform) if done.waveform else None,
        variants=",".join(done.files),
        created_at=upload.updated_at,
    )


def _attachment(upload: Upload, stored: Blob, now: object) -> Attachment:
    kind = stored.kind
    if upload.kind_hint == "voice" and kind == "audio":
        kind = "voice"
    timed = kind in ("audio", "voice", "video")
    return Attachment(
        id=upload.id,
        user_id=upload.user_id,
        blob_sha=stored.sha256,
        kind=kind,
        name=upload.name,
        size=stored.size,
        mime_type=stored.mime_type,
        # What the content says wins over what the recorder said.
        duration_ms=(stored.duration_ms or upload.duration_ms) if timed else None,
        waveform=(upload.waveform or stored.waveform) if kind in ("audio", "voice") else None,
        position=0,
        created_at=now,
    )


async def _fail(
    uows: UnitOfWorkFactory, upload_id: uuid.UUID, code: ErrorCode, message: str
) -> None:
    async with uows.write() as uow:
        upload = await media_repo.upload_of(uow.session, upload_id)
        if upload is not None:
            upload.status = "failed"
            upload.error_code = str(code)
            upload.error = message[:500]
            upload.updated_at = uow.ctx.clock.now()
            await uow.commit()


async def cancel_upload(uow: UnitOfWork, actor: Actor, upload_id: uuid.UUID) -> None:
    """tus termination: forget the actor's upload and its bytes.

    Raises: NotFound (anyone else's); Conflict (UPLOAD_CONFLICT) once attached to a
    message, or while it is being processed.
    """
    media = runtime(uow)
    upload = await media_repo.upload_of(uow.session, upload_id, actor.id)
    if upload is None:
        found = await media_repo.attachment_with_blob(uow.session, upload_id)
        if found is not None and found[0].user_id == actor.id:
            raise Conflict(
                "The file is part of a message: delete the message", ErrorCode.UPLOAD_CONFLICT
            )
        raise NotFound("Upload not found")
    if upload.status == "processing":
        raise Conflict("The upload is being processed; try again", ErrorCode.UPLOAD_CONFLICT)
    await uow.session.delete(upload)
    if upload.status == "ready":
        await _drop_unattached(uow, [upload_id])

    async def discard() -> None:
        media.discard(upload_id)

    uow.after_commit(discard)


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


def fallback_text(attachments: Sequence[Attachment]) -> str:
    """What clients that know no attachments show for a message without a caption."""
    kinds = {a.kind for a in attachments}
    count = len(attachments)
    if kinds == {"image"}:
        return "📷 Photo" if count == 1 else f"📷 {count} photos"
    if kinds == {"video"}:
        return "🎬 Video" if count == 1 else f"🎬 {count} videos"
    if count == 1 and kinds == {"voice"}:
        seconds = round((attachments[0].duration_ms or 0) / 1000)
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


async def _drop_unattached(uow: UnitOfWork, attachment_ids: Sequence[uuid.UUID]) -> None:
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
    await _drop_unattached(uow, stale_ready)

    async def discard() -> None:
        for upload_id in ids:
            media.discard(upload_id)

    uow.after_commit(discard)
    return len(ids) + len(stale_ready)
