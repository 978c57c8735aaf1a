"""Two members join through invitation links and chat in real time in two browsers."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, shot

pytestmark = pytest.mark.browser


def join(page: Any, username: str, display_name: str, password: str = "family-pass-1") -> None:
    expect(page.get_by_role("heading", name="You are invited")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Display name (optional)").fill(display_name)
    page.get_by_role("button", name="Join the family").click()
    expect(page.get_by_role("heading", name="Chats")).to_be_visible()
    # The join link is replaced by the app's own address.
    expect(page).not_to_have_url(re.compile(r"/join/"))


def open_chat(page: Any, title: str) -> None:
    page.locator(".chat-item", has_text=title).first.click()
    expect(page.locator(".chat-head-title")).to_have_text(title)


def test_two_members_chat_in_real_time(live_server: Any, new_page: Any) -> None:
    suffix = uuid.uuid4().hex[:5]
    anna_name, boris_name = f"Anna {suffix}", f"Boris {suffix}"
    anna = new_page(viewport=PHONE, path=f"/join/{live_server.invite()}")
    join(anna, f"anna_{suffix}", anna_name)
    boris = new_page(viewport=DESKTOP, path=f"/join/{live_server.invite()}")
    join(boris, f"boris_{suffix}", boris_name)

    # Both are in the family chat.
    open_chat(anna, "Family")
    open_chat(boris, "Family")
    composer_a = anna.get_by_role("textbox", name="Message")
    composer_b = boris.get_by_role("textbox", name="Message")

    composer_a.fill(f"Hello from Anna {suffix}! See https://example.org/photos")
    composer_a.press("Enter")
    mine = anna.locator(".msg-row.mine", has_text=f"Hello from Anna {suffix}")
    expect(mine).to_be_visible()
    theirs = boris.locator(".msg-row.theirs", has_text=f"Hello from Anna {suffix}")
    expect(theirs).to_be_visible()
    expect(theirs.locator(".sender-name")).to_have_text(anna_name)
    link = theirs.get_by_role("link", name="https://example.org/photos")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")

    # Boris has the chat open at the bottom: Anna sees her message read.
    expect(mine.locator(".status-read")).to_be_visible()

    # Typing indicator, then a multi-line reply (Shift+Enter is a new line).
    composer_b.press_sequentially("Hi Anna")
    expect(anna.locator(".chat-head-sub")).to_have_text(f"{boris_name} is typing…")
    composer_b.press("Shift+Enter")
    composer_b.press_sequentially("<b>not bold</b> 👋")
    composer_b.press("Enter")
    reply = anna.locator(".msg-row.theirs", has_text="not bold")
    expect(reply).to_be_visible()
    expect(reply.locator(".msg-text")).to_have_text("Hi Anna\n<b>not bold</b> 👋")
    expect(reply.locator("b")).to_have_count(0)
    expect(anna.locator(".chat-head-sub")).not_to_have_text(f"{boris_name} is typing…")

    # "Read by" on Anna's message.
    mine.get_by_role("button", name="Message info: Read").click()
    dialog = anna.get_by_role("dialog", name="Message info")
    expect(dialog.get_by_role("list", name="Read by")).to_contain_text(boris_name)
    dialog.get_by_role("button", name="Close").click()

    shot(anna, "phone-chat-light.png")
    shot(boris, "desktop-chat-light.png")

    # A private chat: Anna starts it, Boris gets it with an unread badge.
    anna.get_by_role("button", name="Back").click()
    anna.get_by_role("button", name="New chat").click()
    anna.get_by_role("button", name=f"Open chat with {boris_name}").click()
    expect(anna.locator(".chat-head-title")).to_have_text(boris_name)
    anna.get_by_role("textbox", name="Message").fill("Just for you")
    anna.get_by_role("textbox", name="Message").press("Enter")
    expect(anna.locator(".msg-row.mine", has_text="Just for you")).to_be_visible()
    private_item = boris.locator(".chat-item").filter(
        has=boris.locator(".chat-item-title", has_text=anna_name)
    )
    expect(private_item.locator(".badge")).to_have_text("1")
    expect(private_item).to_contain_text("Just for you")
    # The private chat shows the other person's presence.
    expect(anna.locator(".chat-head-sub")).to_have_text("online")

    anna.get_by_role("button", name="Back").click()
    expect(anna.locator(".chat-item").first).to_contain_text("Just for you")
    shot(anna, "phone-chats-light.png")

    # Boris creates a group with Anna; she sees it appear, renames are pushed.
    boris.get_by_role("button", name="New chat").click()
    boris.get_by_role("button", name="New group").click()
    boris.get_by_label("Group name").fill(f"Trip {suffix}")
    boris.get_by_role("checkbox", name=anna_name).check()
    boris.get_by_role("button", name="Create").click()
    expect(boris.locator(".chat-head-title")).to_have_text(f"Trip {suffix}")
    expect(anna.locator(".chat-item", has_text=f"Trip {suffix}")).to_be_visible()
    boris.get_by_role("button", name="Chat info", exact=True).click()
    boris.get_by_label("Group name").fill(f"Summer trip {suffix}")
    boris.get_by_role("button", name="Rename").click()
    expect(anna.locator(".chat-item", has_text=f"Summer trip {suffix}")).to_be_visible()
    boris.get_by_role("button", name="Close").click()

    # Anna leaves the group: it disappears for her, Boris sees one member left.
    open_chat(anna, f"Summer trip {suffix}")
    anna.get_by_role("button", name="Chat info", exact=True).click()
    anna.get_by_role("button", name="Leave group").click()
    confirm = anna.get_by_role("dialog", name="Leave group")
    expect(confirm).to_contain_text(f"Leave “Summer trip {suffix}”?")
    confirm.get_by_role("button", name="Leave group").click()
    expect(anna.locator(".chat-item", has_text=f"Summer trip {suffix}")).to_have_count(0)
    expect(boris.locator(".chat-head-sub")).to_have_text("1 member")


def test_session_survives_reload_and_sign_out(live_server: Any, new_page: Any, member: Any) -> None:
    m = member("reload", display_name="Reload Tester")
    page = new_page()
    page.get_by_label("Username").fill(m["username"])
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")

    page.get_by_label("Password").fill(m["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Chats")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Chats")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    token = page.evaluate("JSON.parse(localStorage.getItem('ic.session')).refreshToken")
    assert token

    # A rejected access token is refreshed transparently (REST 401 and socket connect_error).
    page.evaluate(
        """() => {
            const s = JSON.parse(localStorage.getItem('ic.session'));
            s.accessToken = 'not-a-valid-token';
            s.expiresAt = Date.now() + 3600e3;
            localStorage.setItem('ic.session', JSON.stringify(s));
        }"""
    )
    page.reload()
    expect(page.locator(".chat-item", has_text="Family")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Connecting")).to_have_count(0)
    page.wait_for_function(
        "JSON.parse(localStorage.getItem('ic.session')).accessToken !== 'not-a-valid-token'"
    )
    new_token = page.evaluate("JSON.parse(localStorage.getItem('ic.session')).refreshToken")
    assert new_token != token

    page.get_by_role("button", name="Settings").click()
    shot(page, "phone-settings-light.png")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("localStorage.getItem('ic.session')") is None
