"""How messages are shown with their reply quotes, origins, reactions and mentions (ADR 14).

Every path that answers with or announces messages (history, sync, edits, pins,
reactions) builds them here, in a fixed number of queries per page.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from inner_circle.core import limits
from inner_circle.protocol.rest import ForwardedFromOut, MessageOut, ReactionOut, ReplyToOut
from inner_circle.server.db.models import User
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import messages as messages_repo
from inner_circle.server.repositories import rich as rich_repo
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.services.views import AnyMessage, Named, RichParts, message_out

__all__ = ["for_audience", "message_outs", "preview", "reactions_out", "redacted", "rich_parts"]


def preview(content: str) -> str:
    """One line of a message, as a reply quotes it."""
    line = next((part.strip() for part in content.splitlines() if part.strip()), "")
    if len(line) > limits.REPLY_PREVIEW_MAX:
        return line[: limits.REPLY_PREVIEW_MAX - 1] + "…"
    return line


def reactions_out(grouped: Sequence[tuple[str, list[uuid.UUID]]]) -> list[ReactionOut]:
    return [ReactionOut(emoji=e, count=len(users), user_ids=users) for e, users in grouped]


async def rich_parts(
    uow: UnitOfWork,
    messages: Sequence[AnyMessage],
    *,
    stored: bool = True,
    mentions: Mapping[uuid.UUID, list[uuid.UUID]] | None = None,
) -> dict[uuid.UUID, RichParts]:
    """Each message's parts. ``stored=False`` (messages being sent): no reactions to read,
    and their ``mentions`` are given."""
    session = uow.session
    reply_ids = {m.reply_to_id for m in messages if m.reply_to_id is not None}
    originals = await messages_repo.by_ids(session, reply_ids)
    forwarded_senders = {
        m.forwarded_sender_id for m in messages if m.forwarded_sender_id is not None
    }
    senders: dict[uuid.UUID, User] = (
        await users_repo.by_ids(session, forwarded_senders) if forwarded_senders else {}
    )
    ids = [m.id for m in messages]
    reactions: rich_repo.Reactions = {}
    if stored and mentions is None:
        reactions, mentions = await rich_repo.reactions_and_mentions(session, ids)
    elif stored:
        reactions = await rich_repo.reactions_of(session, ids)
    mentions = mentions or {}
    parts: dict[uuid.UUID, RichParts] = {}
    for m in messages:
        reply = None
        if m.reply_to_id is not None and m.reply_to_id in originals:
            original, author = originals[m.reply_to_id]
            gone = original.deleted_at is not None
            reply = ReplyToOut(
                id=original.id,
                sender_id=original.sender_id,
                sender_name=author.shown_name,
                preview="" if gone else preview(original.content),
                deleted=gone,
            )
        origin = None
        if m.forwarded_message_id and m.forwarded_chat_id and m.forwarded_sender_id:
            who = senders.get(m.forwarded_sender_id)
            origin = ForwardedFromOut(
                message_id=m.forwarded_message_id,
                chat_id=m.forwarded_chat_id,
                sender_id=m.forwarded_sender_id,
                sender_name=who.shown_name if who else "",
            )
        parts[m.id] = RichParts(
            reply_to=reply,
            forwarded_from=origin,
            reactions=reactions_out(reactions.get(m.id, [])),
            mentions=list(mentions.get(m.id, [])),
            reply_seq=originals[m.reply_to_id][0].seq if reply is not None else None,
        )
    return parts


def redacted(out: MessageOut) -> MessageOut:
    """The message for a member whose history starts after the message it quotes: the
    quote reads as unavailable, as a deleted original does."""
    if out.reply_to is None:
        return out
    quote = out.reply_to.model_copy(update={"preview": "", "deleted": True})
    return out.model_copy(update={"reply_to": quote})


async def message_outs(
    uow: UnitOfWork,
    rows: Sequence[tuple[AnyMessage, Named]],
    names: Mapping[uuid.UUID, str],
    *,
    history_from: Mapping[uuid.UUID, int] | None = None,
) -> list[MessageOut]:
    """Stored messages with their parts; ``names``: each chat's stored name.
    ``history_from``: the viewer's first readable place per chat (quotes of earlier
    messages are :func:`redacted`); None for an answer every member may get."""
    parts = await rich_parts(uow, [m for m, _ in rows])
    outs = []
    for m, u in rows:
        out = message_out(m, u, names[m.chat_id], parts[m.id])
        seq = parts[m.id].reply_seq
        if history_from is not None and seq is not None and seq <= history_from.get(m.chat_id, 0):
            out = redacted(out)
        outs.append(out)
    return outs


async def for_audience(
    uow: UnitOfWork, out: MessageOut, reply_seq: int | None, recipients: Sequence[uuid.UUID]
) -> list[tuple[MessageOut, list[uuid.UUID]]]:
    """Who gets which form of an event's message: members whose history starts after the
    quoted message get it :func:`redacted`. One query, for replies only."""
    if reply_seq is None:
        return [(out, list(recipients))]
    hidden = await chats_repo.history_hidden_from(uow.session, out.chat_id, reply_seq)
    seeing = [u for u in recipients if u not in hidden]
    blind = [u for u in recipients if u in hidden]
    return [(o, who) for o, who in ((out, seeing), (redacted(out), blind)) if who]
