"""ORM rows to wire models. Database models never leave the server."""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime

from inner_circle.core.invites import invite_status
from inner_circle.protocol.rest import (
    CallSummary,
    ChatOut,
    ChatRef,
    InviteOut,
    MemberReadState,
    MessageOut,
    UserBrief,
    UserOut,
)
from inner_circle.server.db.models import Chat, ChatParticipant, InvitationCode, Message, User

__all__ = [
    "chat_out",
    "invite_out",
    "message_out",
    "unread_count",
    "user_brief",
    "user_out",
]


def user_brief(user: User) -> UserBrief:
    return UserBrief(id=user.id, username=user.username, display_name=user.shown_name)


def user_out(user: User, *, online: bool = False) -> UserOut:
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


def message_out(message: Message, sender: User, chat_name: str) -> MessageOut:
    """``chat_name``: the chat's stored name (:func:`chat_out` names a private chat per viewer)."""
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
    members: list[tuple[ChatParticipant, User]],
    last: tuple[Message, User] | None,
    deleted: Sequence[int] = (),
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
