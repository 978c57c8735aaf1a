"""Messages written offline are queued, survive a reload, and are delivered exactly once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import api_token, sign_in

pytestmark = pytest.mark.browser


def test_offline_queue_delivers_each_message_once(
    live_server: Any, new_page: Any, member: Any
) -> None:
    m = member("offline")
    token = api_token(live_server.url, m["username"], m["password"])
    headers = {"Authorization": f"Bearer {token}"}
    chat = httpx.post(
        f"{live_server.url}/chats", json={"name": "Notes", "participantIds": []}, headers=headers
    )
    assert chat.status_code == 201, chat.text
    chat_id = chat.json()["id"]

    page = new_page()
    sign_in(page, m["username"], m["password"])
    # The service worker has cached the app shell.
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.locator(".chat-item", has_text="Notes").click()
    composer = page.get_by_role("textbox", name="Message")
    composer.fill("online before")
    composer.press("Enter")
    expect(page.locator(".msg-row.mine[data-seq]", has_text="online before")).to_be_visible()

    page.context.set_offline(True)
    expect(page.get_by_role("status").filter(has_text="No connection")).to_be_visible()
    for text in ("first while offline", "second while offline"):
        composer.fill(text)
        composer.press("Enter")
    pending = page.locator(".msg-row.pending")
    expect(pending).to_have_count(2)
    expect(pending.first.get_by_role("img", name="Sending")).to_be_visible()

    # Still offline: the app opens from the service worker's cache with the queue intact.
    page.reload()
    expect(page.locator(".chat-head-title")).to_have_text("Notes")
    expect(page.locator(".msg-row.pending")).to_have_count(2)
    expect(page.locator(".msg-row", has_text="online before")).to_be_visible()

    page.context.set_offline(False)
    expect(page.locator(".msg-row.pending")).to_have_count(0)
    expect(page.locator(".msg-row.mine[data-seq]", has_text="first while offline")).to_have_count(1)
    expect(page.locator(".msg-row.mine[data-seq]", has_text="second while offline")).to_have_count(
        1
    )
    expect(page.get_by_role("status").filter(has_text="No connection")).to_have_count(0)

    history = httpx.get(f"{live_server.url}/messages/{chat_id}?limit=50", headers=headers)
    assert history.status_code == 200, history.text
    contents = [msg["content"] for msg in history.json()]
    assert contents == ["online before", "first while offline", "second while offline"]
    assert all(msg["clientMessageId"] for msg in history.json())
