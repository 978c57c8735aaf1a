"""ORM rows to wire models. Database models never leave the server."""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from inner_circle.core.invites import invite_status
from inner_circle.protocol.rest import (
    CallSummary,
    ChatOut,
    ChatRef,
    ForwardedFromOut,
    InviteOut,
    MemberReadState,
    MessageOut,
    ReactionOut,
    ReplyToOut,
    UserBrief,
    UserOut,
)
from inner_circle.server.db.models import Chat, InvitationCode, Message, User
from inner_circle.server.repositories.chats import ChatMember, MemberName
from inner_circle.server.repositories.messages import StoredMessage
from inner_circle.server.repositories.users import MemberRow

__all__ = [
    "AnyMessage",
    "Named",
    "RichParts",
    "chat_out",
    "invite_out",
    "message_out",
    "unread_count",
    "user_brief",
    "user_out",
]


class Named(Protocol):
    """A member as a message shows its sender: a ``User``, or the ``Actor`` who sent it."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def username(self) -> str: ...
    @property
    def shown_name(self) -> str: ...


def user_brief(user: Named) -> UserBrief:
    return UserBrief(id=user.id, username=user.username, display_name=user.shown_name)


def user_out(user: User | MemberRow, *, online: bool = False) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.shown_name,
        is_admin=user.is_admin,
        is_active=user.is_active,
        is_online=online,
        last_seen_at=user.last_seen_at,
        created_at=user.created_at,
        # A seed row may lack it; the seed's app needs a date either way.
        updated_at=user.updated_at or user.created_at,
    )


@dataclass(frozen=True, slots=True)
class RichParts:
    """What a message shows beyond its own row (services/rich.py loads it)."""

    reply_to: ReplyToOut | None = None
    forwarded_from: ForwardedFromOut | None = None
    reactions: list[ReactionOut] = field(default_factory=list)
    mentions: list[uuid.UUID] = field(default_factory=list)
    # The quoted message's place: members whose history starts after it get no quote text.
    reply_seq: int | None = None


NO_PARTS = RichParts()


# A message read as an ORM object, or as plain values (history pages).
AnyMessage = Message | StoredMessage


def message_out(
    message: AnyMessage, sender: Named, chat_name: str, parts: RichParts = NO_PARTS
) -> MessageOut:
    """``chat_name``: the chat's stored name (:func:`chat_out` names a private chat per viewer).
    ``parts``: its reply quote, origin, reactions and mentions (none by default: a chat's
    last-message preview)."""
    return MessageOut(
        id=message.id,
        chat_id=message.chat_id,
        chat=ChatRef(id=message.chat_id, name=chat_name),
        seq=message.seq,
        sender_id=message.sender_id,
        sender=user_brief(sender),
        content=message.content,
        client_message_id=message.client_message_id,
        created_at=message.created_at,
        updated_at=message.updated_at,
        edited_at=message.edited_at,
        deleted_at=message.deleted_at,
        caption="" if message.content_is_fallback else message.content,
        reply_to=parts.reply_to,
        forwarded_from=parts.forwarded_from,
        reactions=[] if message.deleted_at else parts.reactions,
        mentions=parts.mentions,
        pinned_at=message.pinned_at,
        kind="call" if message.kind == "call" else "text",
        call=CallSummary.model_validate(message.call) if message.call else None,
    )


def unread_count(last_seq: int, last_read: int, deleted: Sequence[int]) -> int:
    """Messages after ``last_read`` that are not deleted (``deleted``: ascending places)."""
    gone = len(deleted) - bisect_right(deleted, last_read)
    return max(0, last_seq - last_read - gone)


def chat_out(
    chat: Chat,
    viewer_id: uuid.UUID,
    members: Sequence[tuple[ChatMember, MemberName]],
    last: tuple[Message, User] | None,
    deleted: Sequence[int] = (),
    unread_mentions: int = 0,
) -> ChatOut:
    """The chat as ``viewer_id`` sees it: a private chat is named after the other member.

    ``deleted``: places of deleted messages (at least those after the viewer's read
    position); they do not count as unread.
    """
    mine = next((p for p, _ in members if p.user_id == viewer_id), None)
    last_read = mine.last_read_seq if mine else 0
    if last is not None and mine is not None and last[0].seq <= mine.history_from_seq:
        last = None  # sent before the viewer joined a group that keeps its history
    name = chat.name
    if chat.type == "private":
        other = next((u for p, u in members if p.user_id != viewer_id), None)
        name = other.shown_name if other else chat.name
    return ChatOut(
        id=chat.id,
        name=name,
        type=chat.type,  # type: ignore[arg-type]
        is_private=chat.type == "private",
        participants=[user_brief(u) for _, u in members],
        participant_ids=[p.user_id for p, _ in members],
        last_message=message_out(*last, chat.name) if last else None,
        last_seq=chat.last_seq,
        last_read_seq=last_read,
        unread_count=unread_count(chat.last_seq, last_read, deleted),
        read_states=[
            MemberReadState(
                user_id=p.user_id,
                last_read_seq=p.last_read_seq,
                last_delivered_seq=p.last_delivered_seq,
            )
            for p, _ in members
        ],
        created_at=chat.created_at,
        updated_at=chat.updated_at,
        new_members_see_history=chat.new_members_see_history,
        unread_mentions=unread_mentions,
    )


def invite_out(invite: InvitationCode, now: datetime) -> InviteOut:
    return InviteOut(
        id=invite.id,
        code=invite.code,
        usage_limit=invite.usage_limit,
        used_count=invite.used_count,
        is_used=invite.is_used,
        is_admin=invite.grants_admin,
        status=invite_status(
            used_count=invite.used_count,
            usage_limit=invite.usage_limit,
            expires_at=invite.expires_at,
            revoked_at=invite.revoked_at,
            now=now,
        ),
        expires_at=invite.expires_at,
        revoked_at=invite.revoked_at,
        created_at=invite.created_at,
        created_by_id=invite.created_by_id,
    )
