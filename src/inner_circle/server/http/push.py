"""/push: Web Push subscriptions, notification preferences; /chats/{id}/mute."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from inner_circle.protocol.push import (
    ChatMuteIn,
    ChatMuteOut,
    PushConfigOut,
    PushDeviceOut,
    PushPreferencesIn,
    PushPreferencesOut,
    PushSubscriptionIn,
    PushUnsubscribeIn,
)
from inner_circle.server.http.deps import CurrentActor, Uow
from inner_circle.server.services import push

router = APIRouter(tags=["push"])


@router.get("/push/config", response_model=PushConfigOut, operation_id="getPushConfig")
async def config(request: Request) -> PushConfigOut:
    """The VAPID public key browsers subscribe with (``applicationServerKey``)."""
    service = request.app.state.push
    return PushConfigOut(vapid_public_key=service.vapid.public_key, fcm_enabled=service.fcm_enabled)


@router.post(
    "/push/subscriptions",
    response_model=PushDeviceOut,
    status_code=201,
    operation_id="subscribePush",
)
async def subscribe(body: PushSubscriptionIn, actor: CurrentActor, uows: Uow) -> PushDeviceOut:
    """Bind this browser's PushSubscription (``subscription.toJSON()``) to my session.
    400 for an endpoint that is not https or keys that are not a P-256 key and auth secret."""
    async with uows.write() as uow:
        device = await push.subscribe(uow, actor, body)
        await uow.commit()
    return device


@router.delete("/push/subscriptions", status_code=204, operation_id="unsubscribePush")
async def unsubscribe(body: PushUnsubscribeIn, actor: CurrentActor, uows: Uow) -> Response:
    """Forget my subscription at ``endpoint`` (on unsubscribe or logout)."""
    async with uows.write() as uow:
        await push.unsubscribe(uow, actor, body.endpoint)
        await uow.commit()
    return Response(status_code=204)


@router.get(
    "/push/subscriptions", response_model=list[PushDeviceOut], operation_id="listPushDevices"
)
async def devices(actor: CurrentActor, uows: Uow) -> list[PushDeviceOut]:
    async with uows.read() as uow:
        return await push.list_devices(uow, actor)


@router.get(
    "/push/preferences", response_model=PushPreferencesOut, operation_id="getPushPreferences"
)
async def preferences(actor: CurrentActor, uows: Uow) -> PushPreferencesOut:
    async with uows.read() as uow:
        return await push.get_preferences(uow, actor)


@router.put(
    "/push/preferences", response_model=PushPreferencesOut, operation_id="setPushPreferences"
)
async def set_preferences(
    body: PushPreferencesIn, actor: CurrentActor, uows: Uow
) -> PushPreferencesOut:
    async with uows.write() as uow:
        answer = await push.set_preferences(uow, actor, body)
        await uow.commit()
    return answer


@router.put("/chats/{chat_id}/mute", response_model=ChatMuteOut, operation_id="muteChat")
async def mute(chat_id: uuid.UUID, body: ChatMuteIn, actor: CurrentActor, uows: Uow) -> ChatMuteOut:
    """Mute the chat's notifications for me: ``1h``, ``8h``, ``forever``, or ``off``."""
    async with uows.write() as uow:
        answer = await push.mute_chat(uow, actor, chat_id, body)
        await uow.commit()
    return answer
