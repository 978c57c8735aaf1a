"""/sync: catch up on everything missed since a stored cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from inner_circle.core import limits
from inner_circle.core.cursors import CURSOR_PATTERN
from inner_circle.protocol.rest import SyncOut
from inner_circle.server.http.deps import AccessToken, Uow
from inner_circle.server.services import auth, sync

router = APIRouter(tags=["sync"])


@router.get("/sync", response_model=SyncOut, operation_id="sync")
async def catch_up(
    token: AccessToken,
    uows: Uow,
    since: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=CURSOR_PATTERN,
            description="The cursor of the last sync (opaque: `<epoch>:<id>`)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=limits.SYNC_PAGE_MAX)] = limits.SYNC_PAGE_DEFAULT,
) -> SyncOut:
    """Changes after ``since`` in order (messages, chats, membership, read state, members);
    without ``since``, a fresh start with every chat and its recent messages."""
    async with uows.read() as uow:
        return await sync.sync(uow, await auth.authenticate(uow, token), since, limit)
