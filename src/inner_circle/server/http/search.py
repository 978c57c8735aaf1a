"""/search: full-text search over the messages the member may read."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from inner_circle.core import limits
from inner_circle.protocol.rest import SearchPageOut
from inner_circle.server.http.deps import CurrentActor, RateLimits, Uow
from inner_circle.server.services import search

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchPageOut, operation_id="searchMessages")
async def search_messages(
    actor: CurrentActor,
    uows: Uow,
    rate: RateLimits,
    q: Annotated[str, Query(min_length=1, max_length=limits.SEARCH_QUERY_MAX)],
    chat_id: Annotated[uuid.UUID | None, Query(alias="chatId")] = None,
    sender_id: Annotated[uuid.UUID | None, Query(alias="senderId")] = None,
    before: Annotated[str | None, Query(max_length=32)] = None,
    has: Annotated[Literal["photo", "file", "voice"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=limits.SEARCH_PAGE_MAX)] = limits.SEARCH_PAGE_DEFAULT,
) -> SearchPageOut:
    """Messages holding every word of ``q`` in any form (Russian and English stemming;
    the last word may be unfinished), newest first, in the chats I am in (404 for a
    ``chatId`` I am not in). ``has``: only messages with photos/videos, files or voice
    messages. ``before``: the previous page's ``nextBefore``."""
    await rate.search_made(actor.id)
    async with uows.read() as uow:
        return await search.search_messages(
            uow,
            actor,
            q,
            chat_id=chat_id,
            sender_id=sender_id,
            before=before,
            has=has,
            limit=limit,
        )
