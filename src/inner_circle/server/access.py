"""How objects are loaded on a member's behalf: the one place that decides who may see what.

A chat the actor is not in reads as *not found*, never *forbidden*, so ids of
other people's chats cannot be probed.
"""

from __future__ import annotations

import uuid

from inner_circle.core.actor import Actor
from inner_circle.core.errors import ErrorCode, Forbidden, NotFound
from inner_circle.server.db.models import Chat, ChatParticipant, User
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import users as users_repo

__all__ = ["access_chat", "access_member", "require_admin"]


async def access_chat(
    uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID
) -> tuple[Chat, ChatParticipant]:
    """Return the chat and the actor's membership row.

    Raises:
        NotFound: the chat does not exist or the actor is not a participant.
    """
    found = await chats_repo.membership(uow.session, chat_id, actor.id)
    if found is None:
        raise NotFound("Chat not found")
    return found


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
