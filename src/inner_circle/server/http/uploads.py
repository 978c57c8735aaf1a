"""/uploads: resumable uploads, the tus 1.0.0 protocol (core, creation, termination).

The web client uses tus-js-client; docs/media.md has the exact exchange. PATCH bodies are
streamed to the staged file (the body-size middleware lets them through unbuffered).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

from inner_circle.core.errors import ValidationFailed
from inner_circle.protocol.rest import UploadMetadataIn, UploadStatusOut
from inner_circle.server.http.deps import CurrentActor, RateLimits, Uow
from inner_circle.server.http.errors import error_response
from inner_circle.server.services import uploads

router = APIRouter(prefix="/uploads", tags=["media"])

TUS_VERSION = "1.0.0"
TUS = {"Tus-Resumable": TUS_VERSION}
OFFSET_STREAM = "application/offset+octet-stream"


def _tus_refusal(tus_resumable: str | None) -> Response | None:
    """412 unless the client speaks our tus version."""
    if tus_resumable == TUS_VERSION:
        return None
    response = error_response(
        412, "VALIDATION_FAILED", f"Send Tus-Resumable: {TUS_VERSION} (the only version served)"
    )
    response.headers["Tus-Version"] = TUS_VERSION
    return response


def parse_metadata(header: str | None) -> UploadMetadataIn:
    """tus ``Upload-Metadata``: ``key base64,key base64``; a key may have no value."""
    values: dict[str, str] = {}
    for pair in (header or "").split(","):
        if not pair.strip():
            continue
        key, _, encoded = pair.strip().partition(" ")
        try:
            values[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValidationFailed(f"Upload-Metadata: {key} is not base64 of UTF-8 text") from exc
    try:
        return UploadMetadataIn.model_validate(
            {
                "filename": values.get("filename") or values.get("name") or "file",
                "filetype": values.get("filetype") or values.get("type") or None,
                "kind": values.get("kind") or None,
                "durationMs": values.get("durationMs") or None,
                "waveform": values.get("waveform") or None,
            }
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(p) for p in problem.get("loc", ()))
        raise ValidationFailed(f"Upload-Metadata: {field}: {problem.get('msg')}") from exc


def _number(value: str | None, name: str) -> int:
    if value is None or not value.isdigit() or len(value) > 18:
        raise ValidationFailed(f"{name} must be a non-negative integer")
    return int(value)


@router.options("", status_code=204, operation_id="uploadOptions")
async def options(request: Request) -> Response:
    """What this server's tus supports (no sign-in needed)."""
    return Response(
        status_code=204,
        headers={
            **TUS,
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": "creation,termination",
            "Tus-Max-Size": str(request.app.state.ctx.media.max_file_bytes),
        },
    )


@router.post("", status_code=201, response_model=UploadStatusOut, operation_id="createUpload")
async def create(
    request: Request,
    actor: CurrentActor,
    uows: Uow,
    limits: RateLimits,
    response: Response,
    tus_resumable: Annotated[str | None, Header()] = None,
    upload_length: Annotated[str | None, Header()] = None,
    upload_metadata: Annotated[str | None, Header()] = None,
    upload_defer_length: Annotated[str | None, Header()] = None,
) -> UploadStatusOut | Response:
    """Start an upload of ``Upload-Length`` bytes (413 over the file limit or the quota)."""
    refused = _tus_refusal(tus_resumable)
    if refused is not None:
        return refused
    if upload_defer_length is not None:
        raise ValidationFailed("Upload-Defer-Length is not supported: send Upload-Length")
    length = _number(upload_length, "Upload-Length")
    meta = parse_metadata(upload_metadata)
    await limits.upload_started(actor.id)
    async with uows.write() as uow:
        status = await uploads.create_upload(uow, actor, length, meta)
        await uow.commit()
    response.headers.update({**TUS, "Location": f"/uploads/{status.id}", "Upload-Offset": "0"})
    return status


@router.head("/{upload_id}", operation_id="uploadOffset")
async def offset(
    upload_id: uuid.UUID,
    actor: CurrentActor,
    uows: Uow,
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    """Where to resume: ``Upload-Offset`` of ``Upload-Length``."""
    refused = _tus_refusal(tus_resumable)
    if refused is not None:
        return refused
    async with uows.read() as uow:
        status = await uploads.upload_status(uow, actor, upload_id)
    return Response(
        status_code=200,
        headers={
            **TUS,
            "Upload-Offset": str(status.offset),
            "Upload-Length": str(status.size),
            "Cache-Control": "no-store",
        },
    )


@router.patch("/{upload_id}", status_code=204, operation_id="uploadChunk")
async def append(
    upload_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    uows: Uow,
    tus_resumable: Annotated[str | None, Header()] = None,
    upload_offset: Annotated[str | None, Header()] = None,
    content_type: Annotated[str | None, Header()] = None,
) -> Response:
    """Append bytes at ``Upload-Offset`` (409 ``UPLOAD_CONFLICT`` when it is not where the
    upload stands: HEAD and resume). The last byte starts processing."""
    refused = _tus_refusal(tus_resumable)
    if refused is not None:
        return refused
    if (content_type or "").split(";")[0].strip().lower() != OFFSET_STREAM:
        return error_response(415, "VALIDATION_FAILED", f"Content-Type must be {OFFSET_STREAM}")
    start = _number(upload_offset, "Upload-Offset")
    try:
        written = await uploads.receive(uows, actor, upload_id, start, request.stream())
    except ClientDisconnect:
        # A cut connection is what tus is for: the bytes that arrived are kept, the client
        # asks HEAD where to resume. Nobody reads this answer.
        return Response(status_code=400, headers=TUS)
    return Response(status_code=204, headers={**TUS, "Upload-Offset": str(written)})


@router.delete("/{upload_id}", status_code=204, operation_id="cancelUpload")
async def cancel(
    upload_id: uuid.UUID,
    actor: CurrentActor,
    uows: Uow,
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    """tus termination: the upload and its bytes are gone (409 once it is in a message)."""
    refused = _tus_refusal(tus_resumable)
    if refused is not None:
        return refused
    async with uows.write() as uow:
        await uploads.cancel_upload(uow, actor, upload_id)
        await uow.commit()
    return Response(status_code=204, headers=TUS)


@router.get("/{upload_id}", response_model=UploadStatusOut, operation_id="uploadStatus")
async def status(upload_id: uuid.UUID, actor: CurrentActor, uows: Uow) -> UploadStatusOut:
    """Progress, then ``ready`` with the attachment (or ``failed`` with the reason)."""
    async with uows.read() as uow:
        return await uploads.upload_status(uow, actor, upload_id)
