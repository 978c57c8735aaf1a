"""Chats: the family chat, private 1:1 chats and groups."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from inner_circle.core.actor import Actor
from inner_circle.core.errors import Forbidden, NotFound, ValidationFailed
from inner_circle.protocol.events import ChatRemoved, ServerEvent
from inner_circle.protocol.rest import ChatOut, GroupChatIn
from inner_circle.server.access import access_chat
from inner_circle.server.db.models import Chat
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import messages as messages_repo
from inner_circle.server.repositories import rich as rich_repo
from inner_circle.server.repositories import sync as sync_repo
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.services.views import chat_out, unread_count

__all__ = [
    "add_participants",
    "announce_chat",
    "create_group_chat",
    "delete_chat",
    "ensure_family_chat",
    "get_chat",
    "get_or_create_private_chat",
    "list_my_chats",
    "remove_participant",
    "rename_chat",
    "reveal_hidden",
    "views_of",
]


async def ensure_family_chat(uow: UnitOfWork) -> Chat:
    """Return the family chat, creating it (with every active member) when there is none.

    Guarantees: there is one family chat however many processes start together on an
    empty database; a process that loses the race returns the winner's chat.
    """
    family = await chats_repo.family_chat(uow.session)
    if family is not None:
        return family
    now = uow.ctx.clock.now()
    family = await chats_repo.insert_family_chat(
        uow.session, uow.ctx.settings.family_chat_name, now
    )
    if family is None:  # another process created it meanwhile
        family = await chats_repo.family_chat(uow.session)
        assert family is not None
        return family
    await chats_repo.add_participants(
        uow.session, family.id, await users_repo.active_ids(uow.session), joined_at=now
    )
    return family


async def list_my_chats(uow: UnitOfWork, actor: Actor) -> list[ChatOut]:
    """The actor's chats with last message and unread count, most recent activity first."""
    memberships = await chats_repo.memberships_of(uow.session, actor.id)
    chats = [chat for chat, _ in memberships]
    return await _views(uow, chats, actor.id)


async def views_of(uow: UnitOfWork, actor: Actor, chat_ids: Iterable[uuid.UUID]) -> list[ChatOut]:
    """The chats among ``chat_ids`` that the actor is in, as the actor sees them."""
    wanted = set(chat_ids)
    if not wanted:
        return []
    memberships = await chats_repo.memberships_of(uow.session, actor.id)
    return await _views(uow, [chat for chat, _ in memberships if chat.id in wanted], actor.id)


async def get_chat(uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID) -> ChatOut:
    """Raises NotFound when the chat does not exist or the actor is not in it."""
    chat, _ = await access_chat(uow, actor, chat_id)
    return (await _views(uow, [chat], actor.id))[0]


async def get_or_create_private_chat(
    uow: UnitOfWork, actor: Actor, target_user_id: uuid.UUID
) -> tuple[ChatOut, bool]:
    """The one private chat between the actor and ``target_user_id``; (chat, created).

    Guarantees: a pair never gets two private chats (a unique key on the pair).

    Raises:
        ValidationFailed: the target is the actor.
        NotFound: no such active member.

    Emits: ``chatCreated`` to both members when the chat is new.
    """
    if target_user_id == actor.id:
        raise ValidationFailed("A private chat needs another member")
    target = await users_repo.by_id(uow.session, target_user_id)
    if target is None or not target.is_active:
        raise NotFound("User not found")
    low, high = sorted((str(actor.id), str(target.id)))
    key = f"{low}:{high}"
    existing = await chats_repo.by_private_key(uow.session, key)
    if existing is not None:
        await reveal_hidden(uow, [existing.id], user_id=actor.id)
        return (await _views(uow, [existing], actor.id))[0], False
    now = uow.ctx.clock.now()
    draft = Chat(
        id=uuid.uuid4(),
        name=f"{actor.username} & {target.username}",
        type="private",
        private_key=key,
        created_by_id=actor.id,
        last_seq=0,
        created_at=now,
        updated_at=now,
    )
    chat = await chats_repo.insert_private(uow.session, draft)
    if chat is None:  # the other member created it at the same moment
        existing = await chats_repo.by_private_key(uow.session, key)
        assert existing is not None
        return (await _views(uow, [existing], actor.id))[0], False
    await chats_repo.add_participants(uow.session, chat.id, [actor.id, target.id], joined_at=now)
    views = await announce_chat(uow, chat, created_for=[actor.id, target.id])
    return views[actor.id], True


async def create_group_chat(uow: UnitOfWork, actor: Actor, body: GroupChatIn) -> ChatOut:
    """A named group of the actor and ``participantIds``; ``newMembersSeeHistory`` says
    whether members added later read its earlier messages (default: yes).

    Raises:
        NotFound: a listed member does not exist or is deactivated.

    Emits: ``chatCreated`` (as each participant sees it) to every participant.
    """
    member_ids = [actor.id, *(uid for uid in body.participant_ids if uid != actor.id)]
    await _require_active(uow, member_ids)
    now = uow.ctx.clock.now()
    chat = Chat(
        name=body.name,
        type="group",
        new_members_see_history=body.new_members_see_history,
        created_by_id=actor.id,
        last_seq=0,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(chat)
    await uow.session.flush()
    await chats_repo.add_participants(uow.session, chat.id, member_ids, joined_at=now)
    views = await announce_chat(uow, chat, created_for=member_ids)
    return views[actor.id]


async def rename_chat(uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID, name: str) -> ChatOut:
    """Rename a group or the family chat (any participant may).

    Raises: NotFound; ValidationFailed for a private chat.
    Emits: ``chatUpdated`` to every participant.
    """
    chat, _ = await access_chat(uow, actor, chat_id)
    if chat.type == "private":
        raise ValidationFailed("A private chat cannot be renamed")
    chat.name = name
    chat.updated_at = uow.ctx.clock.now()
    return (await announce_chat(uow, chat))[actor.id]


async def add_participants(
    uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID, user_ids: Iterable[uuid.UUID]
) -> ChatOut:
    """Add members to a group (any participant may).

    Newcomers read the group's earlier messages when the group says so
    (``newMembersSeeHistory``, the default, as families expect); otherwise they see
    only messages sent after they joined, in every read path (history pages, sync,
    the chat's last message, later edits and deletions of earlier messages). Either
    way the earlier messages count as read.

    Raises: NotFound (chat or member); ValidationFailed unless the chat is a group.
    Emits: ``chatCreated`` to the newcomers, ``chatUpdated`` to the others.
    """
    chat, _ = await access_chat(uow, actor, chat_id)
    if chat.type != "group":
        raise ValidationFailed("Members can only be added to a group chat")
    ids = list(dict.fromkeys(user_ids))
    await _require_active(uow, ids)
    now = uow.ctx.clock.now()
    added = await chats_repo.add_participants(
        uow.session,
        chat.id,
        ids,
        joined_at=now,
        read_up_to=chat.last_seq,
        history_from_seq=0 if chat.new_members_see_history else chat.last_seq,
    )
    chat.updated_at = now
    return (await announce_chat(uow, chat, created_for=added))[actor.id]


async def remove_participant(
    uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID, user_id: uuid.UUID
) -> ChatOut | None:
    """Remove a member from a group; removing yourself is leaving.

    Any participant may remove another (a family has no moderators); only a group
    allows it. Returns the chat as the actor now sees it, or None when they left.

    Raises: NotFound (chat, or the user is not in it); ValidationFailed unless a group.
    Emits: ``chatRemoved`` to the removed member, ``chatUpdated`` to those who remain.
    """
    chat, _ = await access_chat(uow, actor, chat_id)
    if chat.type != "group":
        raise ValidationFailed("Only a group chat has members to remove")
    if user_id not in await chats_repo.participant_ids(uow.session, chat.id):
        raise NotFound("This member is not in the chat")
    await chats_repo.remove_participant(uow.session, chat.id, user_id)
    chat.updated_at = uow.ctx.clock.now()
    sync_repo.record(uow.session, "removed", chat.updated_at, chat_id=chat.id, user_id=user_id)
    uow.emit(ServerEvent.CHAT_REMOVED, ChatRemoved(chat_id=chat.id), [user_id])
    views = await announce_chat(uow, chat)
    return views.get(actor.id)


async def delete_chat(uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID) -> str:
    """The seed's ``DELETE /chats/:id``, made safe for a family; returns what happened.

    A private chat leaves the actor's list only (the other member keeps it, and the
    history stays): it comes back when either member writes in it or the actor opens
    it again with ``POST /chats/private``. A group: the actor leaves it. The family
    chat cannot be deleted.

    Raises: NotFound; Forbidden for the family chat.
    Emits: ``chatRemoved`` to the actor (a private chat); as :func:`remove_participant`
    for a group.
    """
    chat, participant = await access_chat(uow, actor, chat_id)
    if chat.type == "family":
        raise Forbidden("The family chat cannot be deleted")
    if chat.type == "group":
        await remove_participant(uow, actor, chat.id, actor.id)
        return "You left the chat"
    if participant.hidden_at is None:
        now = uow.ctx.clock.now()
        participant.hidden_at = now
        sync_repo.record(uow.session, "removed", now, chat_id=chat.id, user_id=actor.id)
        uow.emit(ServerEvent.CHAT_REMOVED, ChatRemoved(chat_id=chat.id), [actor.id])
    return "Chat removed from your list"


async def reveal_hidden(
    uow: UnitOfWork, chat_ids: Iterable[uuid.UUID], *, user_id: uuid.UUID | None = None
) -> None:
    """Put chats that members deleted from their list back (only ``user_id``'s, when given).

    Emits: ``chatCreated`` to each member who gets a chat back, ``chatUpdated`` to the others.
    """
    revealed = await chats_repo.unhide(uow.session, chat_ids, user_id)
    for chat_id, members in revealed.items():
        chat = await uow.session.get(Chat, chat_id)
        assert chat is not None
        await announce_chat(uow, chat, created_for=members)


async def announce_chat(
    uow: UnitOfWork, chat: Chat, *, created_for: Iterable[uuid.UUID] = ()
) -> dict[uuid.UUID, ChatOut]:
    """Queue ``chatCreated`` for ``created_for`` and ``chatUpdated`` for the other participants.

    Each participant receives the chat as they see it (names, unread counts).
    Returns those views by user id.
    """
    sync_repo.record(uow.session, "chat", uow.ctx.clock.now(), chat_id=chat.id)
    await uow.session.flush()
    views = await _views_for_all(uow, chat)
    new = set(created_for)
    # Members whose view is the same get one event: a family of n members reading
    # everything gets one ``chatUpdated`` of n participants, not n of them (O(n), not n²).
    groups: dict[tuple[object, ...], tuple[ChatOut, list[uuid.UUID]]] = {}
    for user_id, view in views.items():
        name = ServerEvent.CHAT_CREATED if user_id in new else ServerEvent.CHAT_UPDATED
        last = view.last_message.id if view.last_message else None
        key = (name, view.name, last, view.last_read_seq, view.unread_count, view.unread_mentions)
        groups.setdefault(key, (view, []))[1].append(user_id)
    for (name, *_), (view, user_ids) in groups.items():
        uow.emit(name, view, user_ids)
    return views


async def _require_active(uow: UnitOfWork, user_ids: list[uuid.UUID]) -> None:
    found = await users_repo.by_ids(uow.session, user_ids)
    for uid in user_ids:
        user = found.get(uid)
        if user is None or not user.is_active:
            raise NotFound(f"User {uid} not found")
    if not user_ids:
        raise ValidationFailed("No members given")


async def _views_for_all(uow: UnitOfWork, chat: Chat) -> dict[uuid.UUID, ChatOut]:
    """The chat as each participant sees it. The participant list is built once and shared
    by every view that differs only in its read position (all but private chats), and
    members whose views are equal share one (a family that has read everything: one view,
    not a copy per member)."""
    members = (await chats_repo.participants_by_chat(uow.session, [chat.id]))[chat.id]
    last = (await messages_repo.last_messages(uow.session, [(chat.id, chat.last_seq)])).get(chat.id)
    lowest = min((p.last_read_seq for p, _ in members), default=0)
    deleted = (await messages_repo.deleted_seqs(uow.session, [(chat.id, lowest)])).get(chat.id, [])
    mentions = await rich_repo.unread_mentions_of_members(uow.session, chat.id)
    views: dict[uuid.UUID, ChatOut] = {}
    shared: dict[tuple[int, int, int], ChatOut] = {}
    base: ChatOut | None = None
    for p, _ in members:
        sees_last = last is not None and last[0].seq > p.history_from_seq
        mentioned = mentions.get((chat.id, p.user_id), 0)
        if chat.type == "private" or base is None or sees_last != (base.last_message is not None):
            view = chat_out(chat, p.user_id, members, last, deleted, mentioned)
            if base is None and chat.type != "private":
                base = view
        else:
            unread = unread_count(chat.last_seq, p.last_read_seq, deleted)
            key = (p.last_read_seq, unread, mentioned)
            view = shared.get(key)
            if view is None:
                view = shared[key] = base.model_copy(
                    update={
                        "last_read_seq": p.last_read_seq,
                        "unread_count": unread,
                        "unread_mentions": mentioned,
                    }
                )
        views[p.user_id] = view
    return views


async def _views(uow: UnitOfWork, chats: list[Chat], viewer_id: uuid.UUID) -> list[ChatOut]:
    members = await chats_repo.participants_by_chat(uow.session, [c.id for c in chats])
    last = await messages_repo.last_messages(uow.session, [(c.id, c.last_seq) for c in chats])
    read = {
        chat.id: next((p.last_read_seq for p, _ in members[chat.id] if p.user_id == viewer_id), 0)
        for chat in chats
    }
    deleted = await messages_repo.deleted_seqs(
        uow.session, [(c.id, read[c.id]) for c in chats if c.last_seq > read[c.id]]
    )
    mentions = await rich_repo.unread_mentions(
        uow.session, [(c.id, viewer_id, read[c.id]) for c in chats if c.last_seq > read[c.id]]
    )
    views = [
        chat_out(
            chat,
            viewer_id,
            members[chat.id],
            last.get(chat.id),
            deleted.get(chat.id, ()),
            mentions.get((chat.id, viewer_id), 0),
        )
        for chat in chats
    ]
    views.sort(
        key=lambda view: view.last_message.created_at if view.last_message else view.created_at,
        reverse=True,
    )
    return views
