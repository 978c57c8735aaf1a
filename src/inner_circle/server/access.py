"""How objects are loaded on a member's behalf: the one place that decides who may see what.

A chat the actor is not in reads as *not found*, never *forbidden*, so ids of
other people's chats cannot be probed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from inner_circle.core.actor import Actor
from inner_circle.core.errors import ErrorCode, Forbidden, NotFound
from inner_circle.server.db.models import Chat, ChatParticipant, Message, User
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import messages as messages_repo
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.repositories.chats import Audience, ReadingPlace

__all__ = [
    "access_chat",
    "access_chats",
    "access_history",
    "access_member",
    "access_message",
    "require_admin",
]

NO_CHAT = "Chat not found"


async def access_chat(
    uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID
) -> tuple[Chat, ChatParticipant]:
    """Return the chat and the actor's membership row.

    Raises:
        NotFound: the chat does not exist or the actor is not a participant.
    """
    found = await chats_repo.membership(uow.session, chat_id, actor.id)
    if found is None:
        raise NotFound(NO_CHAT)
    return found


async def access_history(uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID) -> ReadingPlace:
    """The chat's name and the actor's first readable place in it, to read its history.

    Raises:
        NotFound: as :func:`access_chat`.
    """
    found = await chats_repo.reading_place(uow.session, chat_id, actor.id)
    if found is None:
        raise NotFound(NO_CHAT)
    return found


async def access_message(
    uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID, message_id: uuid.UUID
) -> tuple[Chat, ChatParticipant, Message]:
    """A message of a chat the actor is in, within the history the actor may read.

    Raises:
        NotFound: no such chat for the actor, no such message in it, or one sent before
            the actor joined a group that keeps its history from newcomers.
    """
    chat, participant = await access_chat(uow, actor, chat_id)
    message = await messages_repo.in_chat(uow.session, chat.id, message_id)
    if message is None or message.seq <= participant.history_from_seq:
        raise NotFound("Message not found")
    return chat, participant, message


async def access_chats(
    uow: UnitOfWork, wanted: Sequence[tuple[Actor, uuid.UUID]]
) -> list[Audience | NotFound]:
    """For many (actor, chat id) pairs in one query: each chat's audience, or NotFound.

    The answer for a pair is the same as :func:`access_chat` would give: NotFound when
    the chat does not exist or the actor is not a participant.
    """
    audiences = await chats_repo.audiences_by_chat(uow.session, (c for _, c in wanted))
    answers: list[Audience | NotFound] = []
    for actor, chat_id in wanted:
        audience = audiences.get(chat_id)
        if audience is None or actor.id not in audience.members:
            answers.append(NotFound(NO_CHAT))
            continue
        answers.append(audience)
    return answers


async def access_member(uow: UnitOfWork, actor: Actor, user_id: uuid.UUID) -> User:
    """Return a family member's account; every member of the family may see every other.

    Raises:
        NotFound: no such user.
    """
    user = await users_repo.by_id(uow.session, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def require_admin(actor: Actor) -> None:
    """Raises Forbidden(ADMIN_ONLY) unless the actor is an admin."""
    if not actor.is_admin:
        raise Forbidden("Only an admin may do this", ErrorCode.ADMIN_ONLY)
