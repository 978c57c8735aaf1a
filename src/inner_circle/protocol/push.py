"""Wire shapes of push notifications (docs/push.md)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from inner_circle.protocol.base import UtcDatetime, WireModel

__all__ = [
    "ChatMuteIn",
    "ChatMuteOut",
    "PushConfigOut",
    "PushDeviceOut",
    "PushKeysIn",
    "PushPreferencesIn",
    "PushPreferencesOut",
    "PushSubscriptionIn",
    "PushUnsubscribeIn",
    "VisibilityIn",
]

Endpoint = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class PushConfigOut(WireModel):
    vapid_public_key: str
    fcm_enabled: bool


class PushKeysIn(WireModel):
    p256dh: Key
    auth: Key


class PushSubscriptionIn(WireModel):
    """The browser's standard ``PushSubscription.toJSON()``."""

    endpoint: Endpoint
    expiration_time: Annotated[int, Field(ge=0)] | None = None
    keys: PushKeysIn


class PushUnsubscribeIn(WireModel):
    endpoint: Endpoint


class PushDeviceOut(WireModel):
    """One subscribed device of mine (the push service's origin only, never the URL)."""

    id: UUID
    kind: Literal["webpush", "fcm"]
    service: str
    this_device: bool
    created_at: UtcDatetime


class PushPreferencesIn(WireModel):
    show_text: bool


class ChatMuteOut(WireModel):
    chat_id: UUID
    muted: bool
    until: UtcDatetime | None = None


class PushPreferencesOut(WireModel):
    show_text: bool
    mutes: list[ChatMuteOut]


class ChatMuteIn(WireModel):
    """Mute a chat for an hour, eight hours, for good, or unmute it."""

    duration: Literal["1h", "8h", "forever", "off"]


class VisibilityIn(WireModel):
    """The socket event ``visibility``: the web client's tab went hidden or visible."""

    hidden: bool
