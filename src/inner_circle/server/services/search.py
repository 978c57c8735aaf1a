"""Full-text search over the messages a member may read (ADR 0015)."""

from __future__ import annotations

import uuid

from inner_circle.core import limits
from inner_circle.core.actor import Actor
from inner_circle.core.errors import ValidationFailed
from inner_circle.core.search_terms import highlights, parse_query
from inner_circle.protocol.rest import SearchHitOut, SearchPageOut, TextRange
from inner_circle.server.access import access_chat
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import search as search_repo
from inner_circle.server.services import media, rich

__all__ = ["HAS_KINDS", "search_messages"]

# ``has`` of GET /search: which attachment kinds each value stands for.
HAS_KINDS: dict[str, tuple[str, ...]] = {
    "photo": ("image", "video"),
    "file": ("file", "audio"),
    "voice": ("voice",),
}


def _cursor(before: str | None) -> int | None:
    if before is None:
        return None
    if not before.isascii() or not before.isdigit() or not 0 < int(before) <= limits.CURSOR_MAX:
        raise ValidationFailed("before: not a search cursor (pass nextBefore as it came)")
    return int(before)


async def search_messages(
    uow: UnitOfWork,
    actor: Actor,
    q: str,
    *,
    chat_id: uuid.UUID | None = None,
    sender_id: uuid.UUID | None = None,
    before: str | None = None,
    has: str | None = None,
    limit: int = limits.SEARCH_PAGE_DEFAULT,
) -> SearchPageOut:
    """The messages the actor may read that hold every word of ``q`` in any form (the
    last word may be unfinished), newest first, each with its matching words.

    Only chats the actor is in today, and in each what ``GET /messages`` would show
    them; a deleted message never matches and an edited one matches its new words only.
    ``chat_id`` / ``sender_id`` narrow the search, ``has`` to messages with photos or
    videos, files, or voice messages (:data:`HAS_KINDS`); ``before`` is the
    ``nextBefore`` of the previous page. Hits are messages as history shows them (files,
    quotes).

    Raises:
        ValidationFailed: ``q`` holds no word or too many; ``before`` is not a cursor.
        NotFound: ``chat_id`` is a chat the actor is not in.
    """
    try:
        query = parse_query(q)
    except ValueError as exc:
        raise ValidationFailed(f"q: {exc}") from exc
    if query is None:
        raise ValidationFailed("q: search for at least one word")
    if has is not None and has not in HAS_KINDS:
        raise ValidationFailed(f"has: one of {', '.join(HAS_KINDS)}")
    filters = search_repo.Filters(
        chat_id=chat_id,
        sender_id=sender_id,
        before=_cursor(before),
        kinds=HAS_KINDS[has] if has is not None else (),
    )
    await search_repo.plan_each_search(uow.session)
    if chat_id is not None:
        await access_chat(uow, actor, chat_id)
    found = await search_repo.find(uow.session, actor.id, query, filters, limit + 1)
    page = found[:limit]
    history_from = {
        chat.id: mine.history_from_seq
        for chat, mine in await chats_repo.memberships_of(
            uow.session, actor.id, include_hidden=True
        )
    }
    outs = await rich.message_outs(
        uow,
        [(message, sender) for _, message, sender, _ in page],
        {message.chat_id: name for _, message, _, name in page},
        history_from=history_from,
    )
    await media.hydrate(uow, outs)
    hits = [
        SearchHitOut(
            message=out,
            highlights=[TextRange(start=a, end=b) for a, b in highlights(message.content, query)],
        )
        for out, (_, message, _, _) in zip(outs, page, strict=True)
    ]
    return SearchPageOut(hits=hits, next_before=str(page[-1][0]) if len(found) > limit else None)
