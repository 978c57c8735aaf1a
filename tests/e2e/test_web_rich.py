"""Rich messaging in two browsers: reply by swipe and by the menu, react and see it live,
pin and see the bar, mention with suggestions (ADR 14)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, shot
from tests.e2e.test_web_edit_sync import anna_and_boris, by_id, open_chat, send

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
