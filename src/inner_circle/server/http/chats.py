"""/chats: my chats, private chats, groups and their members, read positions."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from inner_circle.protocol.rest import (
    ChatOut,
    ChatRenameIn,
    GroupChatIn,
    ParticipantsAddIn,
    PrivateChatIn,
    ReadPositionIn,
    ReadStateOut,
    RemovedOut,
)
from inner_circle.server.http.deps import CurrentActor, Uow
from inner_circle.server.services import chats, messages

router = APIRouter(prefix="/chats", tags=["chats"])


@router.get("", response_model=list[ChatOut], operation_id="listChats")
async def list_chats(actor: CurrentActor, uows: Uow) -> list[ChatOut]:
    """My chats with last message and unread count, most recent first."""
    async with uows.read() as uow:
        return await chats.list_my_chats(uow, actor)


@router.post("", response_model=ChatOut, status_code=201, operation_id="createGroupChat")
async def create_group(body: GroupChatIn, actor: CurrentActor, uows: Uow) -> ChatOut:
    async with uows.write() as uow:
        chat = await chats.create_group_chat(uow, actor, body)
        await uow.commit()
    return chat


@router.post("/private", response_model=ChatOut, operation_id="getOrCreatePrivateChat")
async def private(
    body: PrivateChatIn, actor: CurrentActor, uows: Uow, response: Response
) -> ChatOut:
    """The private chat with a member: 201 when created, 200 when it already existed."""
    async with uows.write() as uow:
        chat, created = await chats.get_or_create_private_chat(uow, actor, body.target_user_id)
        await uow.commit()
    response.status_code = 201 if created else 200
    return chat


@router.get("/{chat_id}", response_model=ChatOut, operation_id="getChat")
async def get_chat(chat_id: uuid.UUID, actor: CurrentActor, uows: Uow) -> ChatOut:
    async with uows.read() as uow:
        return await chats.get_chat(uow, actor, chat_id)


@router.patch("/{chat_id}", response_model=ChatOut, operation_id="renameChat")
async def rename(chat_id: uuid.UUID, body: ChatRenameIn, actor: CurrentActor, uows: Uow) -> ChatOut:
    async with uows.write() as uow:
        chat = await chats.rename_chat(uow, actor, chat_id, body.name)
        await uow.commit()
    return chat


@router.delete("/{chat_id}", response_model=RemovedOut, operation_id="deleteChat")
async def delete_chat(chat_id: uuid.UUID, actor: CurrentActor, uows: Uow) -> RemovedOut:
    """The seed's chat deletion: a private chat leaves my list (history kept; it comes back
    when either of us writes, or with ``POST /chats/private``); a group: I leave it.
    403 for the family chat."""
    async with uows.write() as uow:
        message = await chats.delete_chat(uow, actor, chat_id)
        await uow.commit()
    return RemovedOut(message=message)


@router.post("/{chat_id}/participants", response_model=ChatOut, operation_id="addParticipants")
async def add_participants(
    chat_id: uuid.UUID, body: ParticipantsAddIn, actor: CurrentActor, uows: Uow
) -> ChatOut:
    async with uows.write() as uow:
        chat = await chats.add_participants(uow, actor, chat_id, body.user_ids)
        await uow.commit()
    return chat


@router.delete(
    "/{chat_id}/participants/{user_id}", response_model=None, operation_id="removeParticipant"
)
async def remove_participant(
    chat_id: uuid.UUID, user_id: uuid.UUID, actor: CurrentActor, uows: Uow
) -> ChatOut | Response:
    """Remove a member from a group; my own id means leaving (204)."""
    async with uows.write() as uow:
        chat = await chats.remove_participant(uow, actor, chat_id, user_id)
        await uow.commit()
    return chat if chat is not None else Response(status_code=204)


@router.post("/{chat_id}/read", response_model=ReadStateOut, operation_id="markRead")
async def mark_read(
    chat_id: uuid.UUID, body: ReadPositionIn, actor: CurrentActor, uows: Uow
) -> ReadStateOut:
    """Move my read position in the chat forward to ``seq``."""
    async with uows.write() as uow:
        state = await messages.mark_read(uow, actor, chat_id, body.seq)
        await uow.commit()
    return state
