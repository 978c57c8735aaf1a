"""Reactions, pins and forwards over REST (ADR 14). Mounted before ``/messages/{chat_id}``
so ``POST /messages/forward`` is not read as a chat id."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Path

from inner_circle.core.emoji import EMOJI_MAX_CHARS, is_emoji
from inner_circle.core.errors import ValidationFailed
from inner_circle.protocol.events import ReactionsUpdated
from inner_circle.protocol.rest import ForwardIn, MessageOut
from inner_circle.server.http.deps import CurrentActor, RateLimits, Sends, Uow
from inner_circle.server.services import forwards, pins, reactions

router = APIRouter(tags=["rich messaging"])

EmojiPath = Annotated[str, Path(min_length=1, max_length=EMOJI_MAX_CHARS * 4)]


def _reaction_route(*, active: bool) -> Callable[..., Awaitable[ReactionsUpdated]]:
    async def react(
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        emoji: EmojiPath,
        actor: CurrentActor,
        uows: Uow,
        limits: RateLimits,
    ) -> ReactionsUpdated:
        if not is_emoji(emoji):
            raise ValidationFailed("emoji must be a single emoji")
        await limits.message_sent(actor.id)
        async with uows.write() as uow:
            update = await reactions.set_reaction(
                uow, actor, chat_id, message_id, emoji, active=active
            )
            await uow.commit()
        return update

    return react


REACTION_ROUTES = (
    ("PUT", True, "addReaction", "Put my reaction (one emoji, URL-encoded) on a message"),
    ("DELETE", False, "removeReaction", "Take back my reaction"),
)
for _method, _active, _name, _what in REACTION_ROUTES:
    router.add_api_route(
        "/messages/{chat_id}/{message_id}/reactions/{emoji}",
        _reaction_route(active=_active),
        methods=[_method],
        response_model=ReactionsUpdated,
        operation_id=_name,
        description=f"{_what}; idempotent. The reactions now.",
    )


def _pin_route(*, pinned: bool) -> Callable[..., Awaitable[MessageOut]]:
    async def pin(
        chat_id: uuid.UUID,
        message_id: uuid.UUID,
        actor: CurrentActor,
        uows: Uow,
        limits: RateLimits,
    ) -> MessageOut:
        await limits.message_sent(actor.id)
        async with uows.write() as uow:
            message = await pins.set_pin(uow, actor, chat_id, message_id, pinned=pinned)
            await uow.commit()
        return message

    return pin


for _method, _pinned, _name in (("POST", True, "pinMessage"), ("DELETE", False, "unpinMessage")):
    router.add_api_route(
        "/messages/{chat_id}/{message_id}/pin",
        _pin_route(pinned=_pinned),
        methods=[_method],
        response_model=MessageOut,
        operation_id=_name,
        description=f"{'Pin' if _pinned else 'Unpin'} a message (family chat: admins only); "
        "idempotent.",
    )


@router.get("/chats/{chat_id}/pins", response_model=list[MessageOut], operation_id="listPins")
async def list_pins(chat_id: uuid.UUID, actor: CurrentActor, uows: Uow) -> list[MessageOut]:
    """The chat's pinned messages, the latest pin first."""
    async with uows.read() as uow:
        return await pins.list_pins(uow, actor, chat_id)


@router.post(
    "/messages/forward",
    response_model=list[MessageOut],
    status_code=201,
    operation_id="forwardMessages",
)
async def forward(
    body: ForwardIn, actor: CurrentActor, uows: Uow, sends: Sends, limits: RateLimits
) -> list[MessageOut]:
    """Copy messages into other chats ("Forwarded from …"); the new messages, per chat in
    the order given."""
    await limits.message_sent(actor.id)
    async with uows.read() as uow:
        requests = await forwards.plan(uow, actor, body)
    return await sends.send_many(requests)
