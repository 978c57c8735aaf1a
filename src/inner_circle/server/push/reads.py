""" "Read on another device": the "read" push and the rules for where it may go (ADR 17).

A device that was pushed a chat's notification keeps a mark (``shown.py``) until its
member reads the chat. When they read it to the end on one device, the committing
process takes the chat's marks in one atomic step (so one read push per shown
notification, however many reads race) and pushes ``{type: "read", chatId,
unreadTotal}`` to the marked devices of the member's *other* sessions. The service
worker closes the chat's notifications and sets the app badge.

Every browser counts a push that leaves no notification on screen against the site:
Chromium spends site-engagement budget and, when it runs out, shows its own "This site
has been updated in the background"; Firefox lowers a per-subscription quota and drops
the subscription at zero. Both count the notifications *still showing*, so closing one
chat's notification while another stays costs nothing. WebKit (``web.push.apple.com``)
is stricter: each push must call ``showNotification`` within 30 seconds, or it counts a
strike that never resets, and at the third it removes every subscription of the
origin. So an Apple endpoint only gets a read push the service worker can answer with a
notification that is true: another chat's notification still showing (shown again,
silently, unchanged) or a quiet summary of what is still unread; with nothing left to
show, the stale notification stays until the app is opened there.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import messages as messages_repo
from inner_circle.server.services.views import unread_count

__all__ = ["fcm_read_message", "must_show_every_push", "read_payload", "unread_state"]

# WebKit's push service (Safari on macOS, iOS and iPadOS web apps).
APPLE_PUSH_SUFFIX = ".push.apple.com"


def must_show_every_push(endpoint: str) -> bool:
    """Whether the browser behind ``endpoint`` revokes subscriptions for pushes that
    show nothing (WebKit's three strikes)."""
    host = (urlsplit(endpoint).hostname or "").lower().rstrip(".")
    return host.endswith(APPLE_PUSH_SUFFIX)


async def unread_state(
    session: AsyncSession, user_id: uuid.UUID, chat_id: uuid.UUID
) -> tuple[int, int] | None:
    """(unread messages in ``chat_id``, unread messages in all the member's chats), as
    the chat list counts them; None when the member is not in the chat."""
    memberships = await chats_repo.memberships_of(session, user_id)
    deleted = await messages_repo.deleted_seqs(
        session, [(chat.id, p.last_read_seq) for chat, p in memberships]
    )
    counts = {
        chat.id: unread_count(chat.last_seq, p.last_read_seq, deleted.get(chat.id, ()))
        for chat, p in memberships
    }
    if chat_id not in counts:
        return None
    return counts[chat_id], sum(counts.values())


def read_payload(
    chat_id: uuid.UUID, unread_total: int, tag: str, *, must_show: bool
) -> dict[str, Any]:
    """What the service worker gets: close ``tag``'s notifications, badge ``unreadTotal``;
    ``mustShow``: this browser needs a notification shown for every push (WebKit)."""
    return {
        "type": "read",
        "chatId": str(chat_id),
        "unreadTotal": unread_total,
        "tag": tag,
        "mustShow": must_show,
    }


def fcm_read_message(token: str, payload: dict[str, Any], ttl: int) -> dict[str, Any]:
    """A data-only FCM message (the app decides what to close) at normal priority; on
    iOS a background push (``content-available``) that also sets the badge."""
    return {
        "token": token,
        "data": {k: str(v) for k, v in payload.items()},
        "android": {"priority": "NORMAL", "ttl": f"{ttl}s", "collapse_key": payload["tag"]},
        "apns": {
            "headers": {
                "apns-priority": "5",
                "apns-push-type": "background",
                "apns-collapse-id": payload["tag"],
            },
            "payload": {"aps": {"content-available": 1, "badge": payload["unreadTotal"]}},
        },
    }
