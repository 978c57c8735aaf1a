"""Rich messaging in two browsers: reply by swipe and by the menu, react and see it live,
pin and see the bar, mention with suggestions (ADR 14)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, shot
from tests.e2e.test_web_edit_sync import anna_and_boris, auth, by_id, open_chat, send

pytestmark = pytest.mark.browser


def open_menu(page: Any, row: Any) -> Any:
    row.hover()
    row.get_by_role("button", name="Message actions").click()
    return page.get_by_role("dialog", name="Message actions")


def swipe_right(row: Any) -> None:
    """A finger dragging the bubble 90 px to the right (pointer events, as a phone sends)."""
    bubble = row.locator(".bubble")
    bubble.evaluate(
        """(el) => {
          const r = el.getBoundingClientRect();
          const y = r.top + r.height / 2;
          const at = (type, x) => el.dispatchEvent(new PointerEvent(type, {
            bubbles: true, pointerId: 7, pointerType: 'touch', isPrimary: true, clientX: x, clientY: y,
          }));
          at('pointerdown', r.left + 10);
          for (let dx = 15; dx <= 90; dx += 15) at('pointermove', r.left + 10 + dx);
          at('pointerup', r.left + 100);
        }"""
    )


def test_reply_react_and_pin_are_seen_live(live_server: Any, new_page: Any, member: Any) -> None:
    suffix, a, b, _ = anna_and_boris(live_server, new_page, member, "Rich")

    original = send(a, "Who buys the cake?")
    theirs = by_id(b, original.get_attribute("data-message-id"))
    expect(theirs).to_be_visible()

    # Reply through the menu: the quote names Anna and her line, on both screens.
    menu = open_menu(b, theirs)
    menu.get_by_role("menuitem", name="Reply").click()
    expect(b.locator(".reply-bar")).to_contain_text(f"Reply to Anna {suffix}")
    composer = b.get_by_role("textbox", name="Message")
    composer.fill("I will")
    composer.press("Enter")
    reply_b = b.locator(".msg-row.mine", has_text="I will")
    expect(reply_b.locator(".reply-quote")).to_contain_text(f"Anna {suffix}")
    expect(reply_b.locator(".reply-quote")).to_contain_text("Who buys the cake?")
    expect(b.locator(".reply-bar")).to_have_count(0)
    reply_a = a.locator(".msg-row.theirs", has_text="I will")
    expect(reply_a.locator(".reply-quote")).to_contain_text("Who buys the cake?")
    reply_a.locator(".reply-quote").click()  # jumps to the original
    expect(original).to_have_class(re.compile(r"\bflash\b"))

    # React from the menu's quick reactions: the count shows live in the other browser.
    menu = open_menu(b, theirs)
    menu.get_by_role("button", name="React with 👍").click()
    chip_a = original.locator(".reaction-chip", has_text="👍")
    expect(chip_a).to_contain_text("1")
    expect(theirs.locator(".reaction-chip.mine", has_text="👍")).to_be_visible()
    chip_a.click()  # Anna adds hers by tapping the chip
    expect(theirs.locator(".reaction-chip", has_text="👍")).to_contain_text("2")

    # Pin: the bar shows the pinned message on both screens; tapping it shows the message.
    menu = open_menu(a, original)
    menu.get_by_role("menuitem", name="Pin").click()
    expect(a.locator(".pin-bar")).to_contain_text("Who buys the cake?")
    expect(b.locator(".pin-bar")).to_contain_text("Who buys the cake?")
    shot(a, "desktop-rich-messaging-light.png")
    b.locator(".pin-bar-main").click()
    expect(theirs).to_have_class(re.compile(r"\bflash\b"))
    menu = open_menu(b, theirs)
    menu.get_by_role("menuitem", name="Unpin").click()
    expect(a.locator(".pin-bar")).to_have_count(0)

    # Forward two messages: select them, then choose the family chat.
    menu = open_menu(a, original)
    menu.get_by_role("menuitem", name="Select").click()
    reply_a.locator(".bubble").click()
    toolbar = a.get_by_role("toolbar", name="2 selected")
    toolbar.get_by_role("button", name="Forward").click()
    dialog = a.get_by_role("dialog", name="Forward to…")
    dialog.get_by_label("Family").check()
    dialog.get_by_role("button", name="Forward").click()
    expect(a.get_by_role("toolbar")).to_have_count(0)
    open_chat(b, "Family")
    copies = b.locator(".msg-row", has=b.locator(".forwarded-from"))
    expect(copies).to_have_count(2)
    expect(copies.nth(0)).to_contain_text(f"Forwarded from Anna {suffix}")
    expect(copies.nth(0)).to_contain_text("Who buys the cake?")
    expect(copies.nth(1)).to_contain_text(f"Forwarded from Boris {suffix}")


def test_reply_by_swipe_and_mention_on_a_phone(
    live_server: Any, new_page: Any, member: Any
) -> None:
    suffix, a, b, _ = anna_and_boris(
        live_server, new_page, member, "Phone", viewport=PHONE, anna_locale="ru-RU"
    )

    box = a.get_by_role("textbox", name="Сообщение")
    box.fill("Кто заберёт бабушку?")
    box.press("Enter")
    original = a.locator(".msg-row.mine[data-seq]", has_text="Кто заберёт бабушку?")
    theirs = by_id(b, original.get_attribute("data-message-id"))
    expect(theirs).to_be_visible()
    swipe_right(theirs)
    expect(b.locator(".reply-bar")).to_contain_text(f"Reply to Anna {suffix}")

    # A mention: "@" suggests members; the pick goes into the text.
    composer = b.get_by_role("textbox", name="Message")
    composer.fill("@ann")
    suggestions = b.get_by_role("listbox", name="Members to mention")
    expect(suggestions).to_contain_text(f"Anna {suffix}")
    shot(b, "phone-mention-suggestions-light.png")
    composer.press("Enter")
    expect(composer).to_have_value(re.compile(r"^@anna_\w+ $"))
    composer.press_sequentially("я заберу")
    composer.press("Enter")
    mine = b.locator(".msg-row.mine", has_text="я заберу")
    expect(mine.locator(".reply-quote")).to_contain_text("Кто заберёт бабушку?")

    # Anna sees the quote (Russian UI) and the message marked as mentioning her.
    mention = a.locator(".msg-row.theirs.mentioned", has_text="я заберу")
    expect(mention.locator(".reply-quote")).to_contain_text("Кто заберёт бабушку?")
    shot(a, "phone-reply-mention-ru-light.png")


def test_quotes_follow_their_original_pins_cycle_and_mentions_count(
    live_server: Any, new_page: Any, member: Any
) -> None:
    made: list[dict[str, Any]] = []

    def remember(*args: Any, **kwargs: Any) -> dict[str, Any]:
        made.append(member(*args, **kwargs))
        return made[-1]

    suffix, a, b, group = anna_and_boris(
        live_server, new_page, remember, "Quotes", anna_locale="ru-RU"
    )
    as_anna, as_boris = (auth(live_server, m) for m in made)

    def call(method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
        r = httpx.request(method, f"{live_server.url}{path}", json=body, headers=headers)
        assert r.is_success, r.text
        return r.json()

    chats = call("GET", "/chats", as_anna)
    chat_id = next(c["id"] for c in chats if c["name"] == group)
    family_id = next(c["id"] for c in chats if c["type"] == "family")

    def post(headers: dict[str, str], text: str, **extra: Any) -> str:
        return str(call("POST", f"/messages/{chat_id}", headers, {"content": text, **extra})["id"])

    # A quote follows its original while both browsers keep the reply loaded: an edit
    # changes its line, a deletion leaves "Deleted message" and none of the old words.
    original = post(as_anna, "Who buys the cake?")
    reply = post(as_boris, "I will", replyToId=original)
    quote_a, quote_b = (by_id(p, reply).locator(".reply-quote-text") for p in (a, b))
    expect(quote_b).to_have_text("Who buys the cake?")
    expect(quote_a).to_have_text("Who buys the cake?")
    call("PATCH", f"/messages/{chat_id}/{original}", as_anna, {"content": "\nWho bakes it?\n"})
    expect(quote_b).to_have_text("Who bakes it?")
    expect(quote_a).to_have_text("Who bakes it?")
    call("DELETE", f"/messages/{chat_id}/{original}", as_anna)
    expect(quote_b).to_have_text("Deleted message")
    expect(quote_a).to_have_text("Удалённое сообщение")

    # The same for the reply being written: the bar follows an edit of what it answers,
    # and closes when that is deleted (nothing is left to quote).
    asked = post(as_anna, "Tea or coffee?")
    menu = open_menu(b, by_id(b, asked))
    menu.get_by_role("menuitem", name="Reply").click()
    reply_bar = b.locator(".reply-bar")
    expect(reply_bar.locator(".edit-bar-quote")).to_have_text("Tea or coffee?")
    call("PATCH", f"/messages/{chat_id}/{asked}", as_anna, {"content": "Tea or cocoa?"})
    expect(reply_bar.locator(".edit-bar-quote")).to_have_text("Tea or cocoa?")
    call("DELETE", f"/messages/{chat_id}/{asked}", as_anna)
    expect(reply_bar).to_have_count(0)

    # Two pins: the bar shows the latest; each tap shows the one it names and moves on.
    address = post(as_anna, "Dacha: Lesnaya 5")
    code = post(as_boris, "Gate code 1234")
    call("POST", f"/messages/{chat_id}/{address}/pin", as_anna)
    call("POST", f"/messages/{chat_id}/{code}/pin", as_boris)
    bar = b.locator(".pin-bar")
    expect(bar).to_have_attribute("data-pin-id", code)
    expect(bar.locator(".pin-bar-title")).to_have_text("Pinned message 1 of 2")
    bar.locator(".pin-bar-main").click()
    expect(by_id(b, code)).to_have_class(re.compile(r"\bflash\b"))
    expect(bar).to_have_attribute("data-pin-id", address)
    expect(bar.locator(".pin-bar-preview")).to_have_text("Dacha: Lesnaya 5")
    bar.locator(".pin-bar-main").click()
    expect(by_id(b, address)).to_have_class(re.compile(r"\bflash\b"))
    expect(bar).to_have_attribute("data-pin-id", code)
    # An edit of a pinned message shows in the bar too.
    call("PATCH", f"/messages/{chat_id}/{code}", as_boris, {"content": "Gate code 4321"})
    expect(bar.locator(".pin-bar-preview")).to_have_text("Gate code 4321")

    # Who reacted: Anna's heart, named in Boris's list.
    call("PUT", f"/messages/{chat_id}/{code}/reactions/❤️", as_anna)
    expect(by_id(b, code).locator(".reaction-chip", has_text="❤️")).to_contain_text("1")
    open_menu(b, by_id(b, code)).get_by_role("menuitem", name="Who reacted").click()
    expect(b.get_by_role("dialog", name="Who reacted")).to_contain_text(f"❤️ Anna {suffix}")

    # A mention in another chat: the "@" badge on that chat in Boris's list.
    boris_name = made[1]["username"]
    call("POST", f"/messages/{family_id}", as_anna, {"content": f"@{boris_name} call grandma"})
    family = b.locator(".chat-item", has_text="call grandma")
    expect(family.locator(".mention-badge")).to_be_visible()
