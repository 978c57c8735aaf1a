"""Push in the browser: the service worker shows a pushed notification, collapses a chat's
notifications into one that counts them, and its click handler opens the chat; the
Settings screen's notifications section."""

from __future__ import annotations

import base64
import io
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect

from inner_circle.sdk import InnerCircleClient
from tests.e2e.conftest import PHONE, api_token, shot, sign_in
from tests.e2e.push_support import (
    PUSH_TO_LOOPBACK,
    notifications,
    push_receiver,
    pushed_worker,
    signed_in,
    wait_for_notifications,
)
from tests.e2e.test_web_edit_sync import open_chat, send
from tests.media.conftest import png, voice_ogg
from tests.support import run_async

pytestmark = pytest.mark.browser


def test_push_shows_notification_and_click_opens_chat(
    live_server: Any, new_page: Any, member: Any
) -> None:
    anna = member("anna", display_name="Anna")
    boris = member("boris", display_name="Boris")
    page = new_page(viewport=PHONE)
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    sign_in(page, boris["username"], boris["password"])
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    token = api_token(live_server.url, anna["username"], anna["password"])
    auth = {"Authorization": f"Bearer {token}"}
    chat = httpx.post(
        f"{live_server.url}/chats/private", json={"targetUserId": boris["id"]}, headers=auth
    ).json()
    # The pushes stand for real unread messages: the open app closes the notifications
    # of chats with nothing unread, and would close these the moment its state changed.
    for text in ("Are you coming?", "Dinner is ready"):
        sent = httpx.post(
            f"{live_server.url}/messages/{chat['id']}", json={"content": text}, headers=auth
        )
        assert sent.status_code in (200, 201), sent.text
    expect(page.locator(".badge", has_text="2")).to_be_visible()

    sw = pushed_worker(page, live_server.url)
    for text in ("Are you coming?", "Dinner is ready"):
        payload = {
            "type": "message",
            "chatId": chat["id"],
            "title": "Anna",
            "body": text,
            "hidden": False,
            "tag": "chat-tag-1",
            "url": f"/#/chat/{chat['id']}",
        }
        sw.deliver(payload)
        wait_for_notifications(
            page,
            lambda ns, t=text: any(t in n["body"] for n in ns),
            f"no notification says {text!r}",
        )
    shown = notifications(page)
    assert len(shown) == 1  # one per chat, counting
    assert shown[0]["title"] == "Anna" and shown[0]["tag"] == "chat-tag-1"
    assert shown[0]["body"] == "2 new messages · Dinner is ready"
    assert shown[0]["data"]["count"] == 2

    # The click: the service worker's notificationclick handler runs on the shown
    # notification and brings the open window to that chat.
    [worker] = page.context.service_workers
    worker.evaluate(
        """() => self.registration.getNotifications().then((ns) => {
             const event = new NotificationEvent('notificationclick', { notification: ns[0] });
             try { self.dispatchEvent(event); } catch (e) { /* waitUntil on a synthetic event */ }
           })"""
    )
    expect(page).to_have_url(f"{live_server.url}/#/chat/{chat['id']}")
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()


def test_settings_notifications_section(live_server: Any, new_page: Any, member: Any) -> None:
    m = member("vera", display_name="Vera")
    page = new_page(viewport=PHONE)
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    sign_in(page, m["username"], m["password"])
    page.goto("/#/settings")
    section = page.locator("section[aria-labelledby='s-push']")
    expect(section.locator("[data-state]")).to_be_visible()
    show_text = page.get_by_role("checkbox", name="Show message text in notifications")
    expect(show_text).to_be_checked()
    with page.expect_response(
        lambda r: r.url.endswith("/push/preferences") and r.request.method == "PUT"
    ):
        show_text.click()
    expect(show_text).not_to_be_checked()
    token = api_token(live_server.url, m["username"], m["password"])
    prefs = httpx.get(
        f"{live_server.url}/push/preferences", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert prefs["showText"] is False
    section.scroll_into_view_if_needed()
    shot(page, "phone-settings-notifications.png")


BADGE_RECORDER = """() => {
  self.__badges = [];
  const record = (n) => { self.__badges.push(n); return Promise.resolve(); };
  Object.defineProperty(self.navigator, 'setAppBadge', { value: record, configurable: true });
  Object.defineProperty(self.navigator, 'clearAppBadge', {
    value: () => record(0), configurable: true });
}"""


def unread_chat(url: str, sender: dict[str, Any], to: dict[str, Any]) -> str:
    """A private chat from ``sender`` to ``to`` with one message ``to`` has not read."""
    token = api_token(url, sender["username"], sender["password"])
    auth = {"Authorization": f"Bearer {token}"}
    chat = httpx.post(f"{url}/chats/private", json={"targetUserId": to["id"]}, headers=auth)
    chat_id = str(chat.json()["id"])
    sent = httpx.post(f"{url}/messages/{chat_id}", json={"content": "hello"}, headers=auth)
    assert sent.status_code in (200, 201), sent.text
    return chat_id


def test_read_push_closes_that_chats_notification_and_sets_the_badge(
    live_server: Any, new_page: Any, member: Any
) -> None:
    anna, carl, boris = member("anna"), member("carl"), member("boris")
    page = new_page(viewport=PHONE)
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    sign_in(page, boris["username"], boris["password"])
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    first = unread_chat(live_server.url, anna, boris)
    second = unread_chat(live_server.url, carl, boris)
    # Both unread in the open app too, so it closes neither notification itself.
    expect(page.locator(".badge")).to_have_count(2)
    sw = pushed_worker(page, live_server.url)
    worker = sw.worker
    worker.evaluate(BADGE_RECORDER)

    for chat_id, name, total in ((first, "Anna", 1), (second, "Carl", 2)):
        message = {"type": "message", "chatId": chat_id, "title": name, "body": "hello"}
        sw.deliver({**message, "tag": f"t-{chat_id}", "unreadTotal": total})
    wait_for_notifications(page, lambda ns: len(ns) == 2, "two chats' notifications")

    read = {"type": "read", "chatId": first, "unreadTotal": 1, "tag": f"t-{first}"}
    sw.deliver({**read, "mustShow": False})
    shown = wait_for_notifications(page, lambda ns: len(ns) == 1, "the read chat's one closed")
    assert shown[0]["title"] == "Carl" and shown[0]["data"]["chatId"] == second
    assert worker.evaluate("() => self.__badges") == [1, 2, 1]

    # Where every push must show a notification (WebKit), closing the last one leaves a
    # quiet summary of what is still unread.
    read = {"type": "read", "chatId": second, "unreadTotal": 3, "tag": f"t-{second}"}
    sw.deliver({**read, "mustShow": True})
    shown = wait_for_notifications(
        page, lambda ns: [n["tag"] for n in ns] == ["ic-unread"], "a summary instead"
    )
    assert shown[0]["body"] == "3 unread messages"
    assert worker.evaluate("() => self.__badges")[-1] == 3


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


def test_the_offer_waits_for_the_first_message_and_not_now_sticks(
    live_server: Any, new_page: Any, member: Any
) -> None:
    anna, boris = member("anna"), member("boris")
    unread_chat(live_server.url, anna, boris)  # something to answer
    page = new_page(viewport=PHONE)
    sign_in(page, boris["username"], boris["password"])
    offer = page.locator(".push-offer")
    expect(page.locator(".chat-item", has_text=anna["username"])).to_be_visible()
    expect(offer).to_have_count(0)  # never on first paint

    open_chat(page, anna["username"])
    send(page, "on my way")
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("Get a notification when family writes")
    shot(page, "phone-push-offer.png")
    offer.get_by_role("button", name="Not now").click()
    expect(offer).to_have_count(0)

    page.reload()
    send(page, "still no notifications, thanks")
    expect(offer).to_have_count(0)
    page.goto("/#/settings")  # the member can still turn them on there
    expect(page.locator("section[aria-labelledby='s-push'] [data-state]")).to_have_attribute(
        "data-state", "off"
    )


def test_an_iphone_is_told_to_install_the_app_first(
    live_server: Any, new_page: Any, member: Any
) -> None:
    anna, vera = member("anna"), member("vera")
    unread_chat(live_server.url, anna, vera)
    page = new_page(viewport=PHONE, user_agent=IPHONE)
    sign_in(page, vera["username"], vera["password"])
    open_chat(page, anna["username"])
    send(page, "hello from Safari")
    page.goto("/#/settings")
    state = page.locator("section[aria-labelledby='s-push'] [data-state]")
    expect(state).to_have_attribute("data-state", "ios-install")
    expect(state).to_contain_text("Add to Home Screen")
    expect(page.locator("section[aria-labelledby='s-push']").get_by_role("button")).to_have_count(0)
    expect(page.locator(".push-offer")).to_have_count(0)  # no offer Safari could not keep


def test_photo_and_voice_pushes_say_what_they_carry_with_the_senders_avatar(
    new_page: Any, member: Any, start_process: Any, tmp_path: Path
) -> None:
    server = start_process(env=PUSH_TO_LOOPBACK)
    anna, boris = member("anna", server=server), member("boris", server=server)
    sw = signed_in(new_page, boris, server)
    page = sw.page
    voice = voice_ogg(tmp_path)

    async def send_photo_and_voice() -> None:
        async with InnerCircleClient(server.url) as client:
            await client.login(anna["username"], anna["password"])
            await client.connect()
            chat = await client.private_chat(uuid.UUID(boris["id"]))
            photo = await client.upload_file(png(), name="snow.png")
            await client.send_message(chat.id, attachment_ids=[photo.id])
            recording = await client.upload_file(voice, name="v.ogg", kind="voice")
            await client.send_message(chat.id, attachment_ids=[recording.id])

    with push_receiver() as push:
        sub = push.subscribe_phone(server.url, boris)
        run_async(send_photo_and_voice())
        photo_push, voice_push = push.wait_for(sub, 2)
    assert photo_push.payload["body"] == "📷 Photo"
    assert re.fullmatch(r"🎤 Voice message \(0:0[12]\)", voice_push.payload["body"])

    sw.deliver(photo_push.payload)
    wait_for_notifications(page, lambda ns: [n["body"] for n in ns] == ["📷 Photo"], "a photo")
    sw.deliver(voice_push.payload)
    expected = f"2 new messages · {voice_push.payload['body']}"
    [shown] = wait_for_notifications(
        page, lambda ns: [n["body"] for n in ns] == [expected], "a voice message after it"
    )
    assert shown["title"] == anna["username"]
    # The icon: anna's initials on her colour, as the app draws her avatar (web/src/ui.tsx).
    prefix = "data:image/png;base64,"
    assert shown["icon"].startswith(prefix)
    icon = Image.open(io.BytesIO(base64.b64decode(shown["icon"][len(prefix) :]))).convert("RGBA")
    assert icon.size == (192, 192)
    assert icon.getpixel((96, 12)) == (*avatar_colour(anna["id"]), 255)  # inside the circle
    assert icon.getpixel((2, 2))[3] == 0  # outside it: transparent
    assert (255, 255, 255, 255) in [c for _, c in icon.getcolors(192 * 192)]  # the initials


AVATAR_COLOURS = ("c2185b", "7b1fa2", "3949ab", "00796b", "2e7d32", "b04a00", "5d4037", "01699f")


def avatar_colour(user_id: str) -> tuple[int, int, int]:
    """The palette slot of web/src/ui.tsx hashIndex (FNV-1a over the id) as RGB."""
    h = 0x811C9DC5
    for char in user_id:
        h = ((h ^ ord(char)) * 0x01000193) & 0xFFFFFFFF
    colour = AVATAR_COLOURS[h % len(AVATAR_COLOURS)]
    return (int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16))
