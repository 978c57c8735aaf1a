"""Media downloads by signed URL (Range, caching, sandboxing), fresh URLs, the chat's
"Media and files" list and the admin's storage view (docs/media.md)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from inner_circle.core.errors import ErrorCode, Forbidden
from inner_circle.protocol.rest import AttachmentKind, AttachmentOut, ChatMediaPage, StorageOut
from inner_circle.server.http.deps import CurrentActor, Uow
from inner_circle.server.media.runtime import MediaRuntime, blob_key
from inner_circle.server.media.sniff import disposition, served_as
from inner_circle.server.services import media

router = APIRouter(tags=["media"])

Variant = Literal["original", "thumb", "preview"]
# Nothing served from here may run as a page of our origin.
SANDBOX = "sandbox; default-src 'none'"
MEDIA_CSP = (
    "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"
)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _runtime(request: Request) -> MediaRuntime:
    found: MediaRuntime = request.app.state.ctx.media
    return found


def _byte_range(header: str | None, size: int) -> tuple[int, int] | Literal[False] | None:
    """(start, end) inclusive for one satisfiable range; None: the whole file; False:
    unsatisfiable (416)."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # several ranges or another unit: answer with the whole file
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        return (max(0, size - length), size - 1) if length > 0 and size > 0 else False
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return False
    return start, end


@router.get("/media/{attachment_id}/{variant}", operation_id="downloadMedia")
async def download(
    attachment_id: uuid.UUID,
    variant: Variant,
    request: Request,
    uows: Uow,
    e: Annotated[int, Query(ge=0, le=2**40)],
    s: Annotated[str, Query(max_length=64)],
) -> Response:
    """A file behind a signed URL (no bearer token: the signature is the grant).
    403 ``LINK_EXPIRED`` after ``e``, 403 ``FORBIDDEN`` for a wrong signature, 404 once
    deleted; ``Range`` for seeking (206/416)."""
    runtime = _runtime(request)
    if not runtime.signer.valid(attachment_id, variant, e, s):
        raise Forbidden("This link is not valid")
    now = uows.ctx.clock.now().timestamp()
    if e < now:
        raise Forbidden("This link has expired: reload to get a fresh one", ErrorCode.LINK_EXPIRED)
    async with uows.read() as uow:
        stored = await media.download(uow, attachment_id, variant)
    key = blob_key(stored.sha256, variant)
    size = stored.size if variant == "original" else await runtime.store.size(key)
    if size is None:
        return Response(status_code=404)
    content_type, inline = served_as(stored.mime_type, variant)
    etag = f'"{stored.sha256[:40]}-{variant}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Cache-Control": f"private, max-age={max(0, int(e - now))}, immutable",
        "Content-Security-Policy": MEDIA_CSP if inline else SANDBOX,
    }
    if not inline:
        headers["Content-Disposition"] = disposition(stored.name, inline=False)
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    wanted = _byte_range(request.headers.get("range"), size)
    if wanted is False:
        headers["Content-Range"] = f"bytes */{size}"
        return Response(status_code=416, headers=headers)
    start, end = wanted if wanted else (0, size - 1)
    headers["Content-Length"] = str(end - start + 1)
    status = 200
    if wanted:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if size == 0:
        return Response(status_code=200, headers=headers, media_type=content_type)
    return StreamingResponse(
        runtime.store.read(key, start, end),
        status_code=status,
        headers=headers,
        media_type=content_type,
    )


@router.get(
    "/attachments/{attachment_id}", response_model=AttachmentOut, operation_id="getAttachment"
)
async def attachment(attachment_id: uuid.UUID, actor: CurrentActor, uows: Uow) -> AttachmentOut:
    """A file with fresh signed URLs (participants of its chat; 404 for anyone else)."""
    async with uows.read() as uow:
        return await media.attachment_for(uow, actor, attachment_id)


@router.get("/chats/{chat_id}/media", response_model=ChatMediaPage, operation_id="listChatMedia")
async def chat_media(
    chat_id: uuid.UUID,
    actor: CurrentActor,
    uows: Uow,
    kind: Annotated[list[AttachmentKind] | None, Query()] = None,
    before: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 30,
) -> ChatMediaPage:
    """The chat's files, newest first; ``before=nextBefore`` for the next page."""
    async with uows.read() as uow:
        return await media.chat_media(
            uow, actor, chat_id, kinds=kind or [], before=before, limit=limit
        )


@router.get("/admin/storage", response_model=StorageOut, operation_id="storageUsage")
async def storage(actor: CurrentActor, uows: Uow) -> StorageOut:
    """Storage used overall and per member (admins)."""
    async with uows.read() as uow:
        return await media.storage_usage(uow, actor)
