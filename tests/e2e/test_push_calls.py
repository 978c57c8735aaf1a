"""Incoming call notifications in the service worker: the calls server's Web Push payloads
(``{type: "call", ...}``, ``{type: "call-ended", ...}``) ring, stop ringing, and answer
Accept (the app at ``/?call=<id>``) and Decline (``POST /calls/public/respond``, which
rejects the real call for its caller)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import api_token
from tests.e2e.push_support import (
    PUSH_TO_LOOPBACK,
    push_receiver,
    signed_in,
    wait_for_notifications,
)

pytestmark = pytest.mark.browser

CLICK = """([tag, action]) => self.registration.getNotifications({ tag }).then((ns) => {
  const event = new NotificationEvent('notificationclick', { notification: ns[0], action });
  try { self.dispatchEvent(event); } catch (e) { /* waitUntil on a synthetic event */ }
})"""


def call_push(call_id: str, *, video: bool = True, ring_seconds: float = 45) -> dict[str, Any]:
    expires = datetime.now(UTC) + timedelta(seconds=ring_seconds)
    return {
        "type": "call",
        "callId": call_id,
        "callType": "video" if video else "audio",
        "callerId": str(uuid.uuid4()),
        "callerName": "Anna",
        "chatId": str(uuid.uuid4()),
        "expiresAt": expires.isoformat().replace("+00:00", "Z"),
    }


def test_call_rings_with_actions_and_stops_on_call_ended(
    live_server: Any, new_page: Any, member: Any
) -> None:
    sw = signed_in(new_page, member("boris"), live_server)
    page = sw.page
    video, voice = str(uuid.uuid4()), str(uuid.uuid4())
    sw.deliver(call_push(video))
    sw.deliver(call_push(voice, video=False))
    shown = wait_for_notifications(page, lambda ns: len(ns) == 2, "two calls ringing")
    ringing = {n["tag"]: n for n in shown}
    call = ringing[f"call-{video}"]
    assert call["title"] == "Anna" and call["body"] == "Incoming video call"
    assert call["actions"] == ["accept", "decline"]
    assert call["requireInteraction"] is True
    assert call["data"]["url"] == f"/?call={video}"
    assert ringing[f"call-{voice}"]["body"] == "Incoming voice call"

    sw.deliver({"type": "call-ended", "callId": video, "status": "ended"})
    shown = wait_for_notifications(page, lambda ns: len(ns) == 1, "the answered call gone")
    assert shown[0]["tag"] == f"call-{voice}"
    sw.deliver({"type": "call-ended", "callId": voice, "status": "missed"})
    shown = wait_for_notifications(
        page, lambda ns: [n["body"] for n in ns] == ["Missed voice call"], "a missed call"
    )
    assert shown[0]["actions"] == [] and shown[0]["requireInteraction"] is False


def test_a_call_left_ringing_past_its_expiry_becomes_missed_on_the_next_push(
    live_server: Any, new_page: Any, member: Any
) -> None:
    # The calls server's "call-ended" push (missed) normally stops the ring; when it is
    # lost, the next push the worker gets sweeps calls that rang out.
    sw = signed_in(new_page, member("boris"), live_server)
    page = sw.page
    call_id = str(uuid.uuid4())
    push = call_push(call_id, ring_seconds=2)
    sw.deliver(push)
    wait_for_notifications(
        page, lambda ns: [n["actions"] for n in ns] == [["accept", "decline"]], "ringing"
    )
    expires = datetime.fromisoformat(push["expiresAt"].replace("Z", "+00:00"))
    while datetime.now(UTC) <= expires:  # the condition is the clock itself
        page.wait_for_timeout(100)
    other_chat = str(uuid.uuid4())
    sw.deliver({"type": "read", "chatId": other_chat, "unreadTotal": 0})
    shown = wait_for_notifications(
        page, lambda ns: [n["body"] for n in ns] == ["Missed video call"], "rung out"
    )
    assert shown[0]["tag"] == f"call-{call_id}" and shown[0]["actions"] == []


def test_decline_rejects_the_real_call_and_accept_opens_the_call(
    new_page: Any, member: Any, start_process: Any
) -> None:
    # The call's real push, taken from the server, delivered to the browser's service worker.
    server = start_process(env=PUSH_TO_LOOPBACK)
    anna, boris = member("anna", server=server), member("boris", server=server)
    sw = signed_in(new_page, boris, server)
    page = sw.page
    caller = {
        "Authorization": f"Bearer {api_token(server.url, anna['username'], anna['password'])}"
    }
    with push_receiver() as push:
        sub = push.subscribe_phone(server.url, boris)
        call = httpx.post(
            f"{server.url}/calls/initiate",
            json={"targetUserId": boris["id"], "type": "video"},
            headers=caller,
        ).json()
        [ring] = push.wait_for(sub)
    assert ring.payload["type"] == "call" and ring.payload["callId"] == call["id"]

    sw.deliver(ring.payload)
    [shown] = wait_for_notifications(page, lambda ns: len(ns) == 1, "ringing")
    assert shown["title"] == anna["username"] and shown["actions"] == ["accept", "decline"]
    [worker] = page.context.service_workers
    with page.context.expect_event(
        "request", lambda r: r.url.endswith("/calls/public/respond"), timeout=10_000
    ) as seen:
        worker.evaluate(CLICK, [f"call-{call['id']}", "decline"])
    request = seen.value
    assert request.method == "POST"
    assert json.loads(request.post_data or "{}") == {"callId": call["id"], "action": "reject"}
    assert "authorization" not in {k.lower() for k in request.headers}
    response = request.response()
    assert response is not None and response.status == 200
    declined = httpx.get(f"{server.url}/calls/{call['id']}", headers=caller).json()
    assert declined["status"] == "rejected"
    wait_for_notifications(page, lambda ns: ns == [], "the declined call's notification closed")

    accepted = str(uuid.uuid4())
    sw.deliver(call_push(accepted))
    wait_for_notifications(page, lambda ns: len(ns) == 1, "ringing again")
    worker.evaluate(CLICK, [f"call-{accepted}", "accept"])
    expect(page).to_have_url(f"{server.url}/?call={accepted}")
    wait_for_notifications(page, lambda ns: ns == [], "the accepted call's notification closed")
