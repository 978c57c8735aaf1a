"""Upload use cases (tus, docs/media.md): start, receive chunks, process, cancel, status.

Bytes arrive in the data folder's staging area, chunk by chunk, with no transaction held;
after the last one, processing (``media/processing.py``) runs in a worker thread and the
upload becomes an attachment (``services/media.py``) or fails with the reason.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import AsyncIterable
from pathlib import Path

from inner_circle.core.actor import Actor
from inner_circle.core.errors import Conflict, ErrorCode, NotFound, TooLarge, ValidationFailed
from inner_circle.protocol.rest import UploadErrorOut, UploadMetadataIn, UploadStatusOut
from inner_circle.server.db.files import PRIVATE_FILE
from inner_circle.server.db.models import Attachment, Blob, Upload
from inner_circle.server.db.uow import UnitOfWork, UnitOfWorkFactory
from inner_circle.server.media.processing import Processed, Refused, process, sha256_of
from inner_circle.server.media.runtime import MediaRuntime, blob_key
from inner_circle.server.repositories import media as media_repo
from inner_circle.server.services.media import attachment_out, drop_unattached, runtime

__all__ = [
    "cancel_upload",
    "create_upload",
    "process_upload",
    "receive",
    "resume_processing",
    "upload_status",
]

log = logging.getLogger(__name__)

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")


def _clean_name(name: str) -> str:
    base = re.split(r"[\\/]", name)[-1]
    base = _UNSAFE_NAME.sub("", base).strip()
    return (base or "file")[:255]


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
            # Also when the body was cut or ran past the length: what arrived counts.
            written = path.stat().st_size if path.exists() else 0
            complete = written == upload.size
            await _record_offset(uows, upload_id, written, complete=complete)
            if complete:
                media.spawn(process_upload(uows, upload_id))
    finally:
        media.release(upload_id)
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
            # Idempotent: another process resuming the same upload may have been first.
            await media_repo.insert_attachment(
                uow.session, _attachment(upload, stored, uow.ctx.clock.now())
            )
            current.status = "ready"
            current.updated_at = uow.ctx.clock.now()
            # Before the commit: whoever sees "ready" finds the staging already clean. A
            # stop in between leaves the upload "processing" without its bytes, which the
            # next start fails cleanly (the member sends the file again).
            media.discard(upload_id)
            await uow.commit()
    except Refused as exc:
        await _fail(uows, upload_id, ErrorCode.UNSUPPORTED_MEDIA, str(exc))
    except Exception:
        log.exception("processing upload %s failed", upload_id)
        await _fail(uows, upload_id, ErrorCode.INTERNAL, "The file could not be processed")
    finally:
        media.discard(upload_id)


async def resume_processing(uows: UnitOfWorkFactory) -> int:
    """At start-up: process again the uploads whose bytes all arrived but whose processing
    a stopped process never finished; returns how many. Safe to run in several processes
    at once (the result is stored once)."""
    async with uows.read() as uow:
        stuck = await media_repo.processing_ids(uow.session)
    media = runtime(uows)
    for upload_id in stuck:
        media.spawn(process_upload(uows, upload_id))
    return len(stuck)


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
    runtime(uows).discard(upload_id)  # before "failed" is visible, as for "ready"
    async with uows.write() as uow:
        upload = await media_repo.upload_of(uow.session, upload_id)
        if upload is not None and upload.status == "processing":  # not one finished meanwhile
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
        await drop_unattached(uow, [upload_id])

    async def discard() -> None:
        media.discard(upload_id)

    uow.after_commit(discard)
