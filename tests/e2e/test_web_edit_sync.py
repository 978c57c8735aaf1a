"""Editing and deleting messages, catching up through /sync after being offline, and adding
members to an existing group — each seen by the other member in another browser."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, api_token, shot, sign_in

pytestmark = pytest.mark.browser


def auth(live_server: Any, m: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(live_server.url, m['username'], m['password'])}"}


def make_group(live_server: Any, owner: dict[str, Any], name: str, *others: dict[str, Any]) -> str:
    r = httpx.post(
        f"{live_server.url}/chats",
        json={"name": name, "participantIds": [o["id"] for o in others]},
        headers=auth(live_server, owner),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def anna_and_boris(
    live_server: Any,
    new_page: Any,
    member: Any,
    word: str,
    *,
    boris_admin: bool = False,
    viewport: dict[str, int] = DESKTOP,
    anna_locale: str = "en-US",
) -> tuple[str, Any, Any, str]:
    """Anna and Boris (display names with a fresh suffix) in a new group, each signed in
    in a browser with the group open: (suffix, Anna's page, Boris's page, group name)."""
    suffix = uuid.uuid4().hex[:5]
    anna = member("anna", display_name=f"Anna {suffix}")
    boris = member("boris", admin=boris_admin, display_name=f"Boris {suffix}")
    group = f"{word} {suffix}"
    make_group(live_server, anna, group, boris)
    a = new_page(viewport=viewport, locale=anna_locale)
    if anna_locale.startswith("ru"):
        a.get_by_label("Имя пользователя").fill(anna["username"])
        a.get_by_label("Пароль").fill(anna["password"])
        a.get_by_role("button", name="Войти").click()
    else:
        sign_in(a, anna["username"], anna["password"])
    b = new_page(viewport=viewport)
    sign_in(b, boris["username"], boris["password"])
    open_chat(a, group)
    open_chat(b, group)
    return suffix, a, b, group


def open_chat(page: Any, title: str) -> None:
    page.locator(".chat-item", has_text=title).first.click()
    expect(page.locator(".chat-head-title")).to_have_text(title)


def send(page: Any, text: str) -> Any:
    composer = page.get_by_role("textbox", name="Message")
    composer.fill(text)
    composer.press("Enter")
    row = page.locator(".msg-row.mine[data-seq]", has_text=text)
    expect(row).to_be_visible()
    return by_id(page, row.get_attribute("data-message-id"))


def by_id(page: Any, message_id: str | None) -> Any:
    """A message row by its id: it stays the same locator when the text changes."""
    assert message_id
    return page.locator(f'.msg-row[data-message-id="{message_id}"]')


def test_edit_and_delete_are_seen_live(live_server: Any, new_page: Any, member: Any) -> None:
    _, a, b, group = anna_and_boris(live_server, new_page, member, "Edits", boris_admin=True)

    mine = send(a, "See you at 5")
    expect(b.locator(".msg-row.theirs", has_text="See you at 5")).to_be_visible()
    theirs = by_id(b, mine.get_attribute("data-message-id"))

    # Edit through the message menu: the button shows on hover; the text goes into the composer.
    mine.hover()
    mine.get_by_role("button", name="Message actions").click()
    menu = a.get_by_role("menu", name="Message actions")
    expect(menu.get_by_role("menuitem")).to_have_text(
        ["Edit", "Reply", "Forward", "Select", "Pin", "Copy text", "Message info", "Delete"]
    )
    shot(a, "desktop-message-menu-light.png")
    menu.get_by_role("menuitem", name="Edit").click()
    editor = a.get_by_role("textbox", name="Edit message")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("See you at 5")
    editor.fill("See you at 6")
    shot(a, "desktop-edit-light.png")
    editor.press("Enter")
    expect(a.get_by_role("textbox", name="Message")).to_have_value("")
    expect(mine.locator(".msg-text")).to_have_text("See you at 6")
    expect(mine.locator(".msg-edited")).to_have_text("edited")
    # Boris sees the new text, marked edited, in the same place; his chat list too.
    expect(theirs.locator(".msg-text")).to_have_text("See you at 6")
    expect(theirs.locator(".msg-edited")).to_have_text("edited")
    expect(b.locator(".msg-row[data-seq]")).to_have_count(1)
    expect(b.locator(".chat-item", has_text=group)).to_contain_text("See you at 6")

    # Keyboard only: focus the menu button, open it with Enter, move with the arrow keys;
    # Escape in the editor cancels the edit (the draft comes back) and stays in the chat.
    composer = a.get_by_role("textbox", name="Message")
    composer.fill("a draft")
    mine.get_by_role("button", name="Message actions").focus()
    a.keyboard.press("Enter")
    expect(menu.get_by_role("menuitem", name="Edit")).to_be_focused()
    a.keyboard.press("ArrowUp")
    expect(menu.get_by_role("menuitem", name="Delete")).to_be_focused()
    a.keyboard.press("Home")
    a.keyboard.press("Enter")
    expect(editor).to_have_value("See you at 6")
    editor.press("Escape")
    expect(a.get_by_role("textbox", name="Edit message")).to_have_count(0)
    expect(composer).to_have_value("a draft")
    expect(a.locator(".chat-head-title")).to_have_text(group)
    composer.fill("")
    # Arrow up in the empty composer edits my last message.
    composer.press("ArrowUp")
    expect(editor).to_have_value("See you at 6")
    a.get_by_role("button", name="Cancel editing").click()

    # Delete: an in-app confirmation, then a placeholder for both and in the chat list.
    mine.hover()
    mine.get_by_role("button", name="Message actions").click()
    menu.get_by_role("menuitem", name="Delete").click()
    confirm = a.get_by_role("dialog", name="Delete for everyone")
    expect(confirm).to_contain_text("Delete this message for everyone?")
    confirm.get_by_role("button", name="Delete for everyone").click()
    expect(mine.locator(".msg-deleted")).to_have_text("Message deleted")
    expect(theirs.locator(".msg-deleted")).to_have_text("Message deleted")
    expect(theirs).not_to_contain_text("See you at 6")
    expect(theirs.get_by_role("button", name="Message actions")).to_have_count(0)
    expect(b.locator(".chat-item", has_text=group).locator(".preview-deleted")).to_have_text(
        "Message deleted"
    )

    # An admin may delete anyone's message; others' messages have no Edit.
    other = send(a, "Delete me, admin")
    expect(b.locator(".msg-row.theirs", has_text="Delete me, admin")).to_be_visible()
    theirs = by_id(b, other.get_attribute("data-message-id"))
    theirs.locator(".bubble").click(button="right")
    b_menu = b.get_by_role("menu", name="Message actions")
    expect(b_menu.get_by_role("menuitem")).to_have_text(
        ["Reply", "Forward", "Select", "Pin", "Copy text", "Delete"]
    )
    b_menu.get_by_role("menuitem", name="Delete").click()
    b.get_by_role("dialog", name="Delete for everyone").get_by_role(
        "button", name="Delete for everyone"
    ).click()
    expect(other.locator(".msg-deleted")).to_be_visible()
    expect(theirs.locator(".msg-deleted")).to_be_visible()


def test_long_press_opens_the_menu_on_touch(
    live_server: Any, browser: Any, new_page: Any, member: Any
) -> None:
    m = member("touch")
    make_group(live_server, m, "Touch notes")
    page = new_page(viewport=PHONE)
    sign_in(page, m["username"], m["password"])
    open_chat(page, "Touch notes")
    row = send(page, "Hold me")
    # The menu button is hidden on a touch screen until focused; a long press opens the menu.
    row.locator(".bubble").dispatch_event(
        "pointerdown", {"pointerType": "touch", "isPrimary": True}
    )
    menu = page.get_by_role("menu", name="Message actions")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitem", name="Edit")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(page.locator(".chat-head-title")).to_have_text("Touch notes")


def test_catch_up_after_being_offline(live_server: Any, new_page: Any, member: Any) -> None:
    suffix = uuid.uuid4().hex[:5]
    anna = member("anna", display_name=f"Anna {suffix}")
    boris = member("boris", display_name=f"Boris {suffix}")
    group = f"Plans {suffix}"
    chat_id = make_group(live_server, anna, group, boris)
    headers = auth(live_server, anna)
    first = httpx.post(
        f"{live_server.url}/messages/{chat_id}", json={"content": "before"}, headers=headers
    )
    assert first.status_code == 201, first.text

    b = new_page(viewport=DESKTOP)
    syncs: list[str] = []
    b.on("request", lambda r: syncs.append(r.url) if "/sync" in r.url else None)
    # Small pages, so that catching up takes several (`hasMore`).
    b.route(
        re.compile(r"/sync\?"),
        lambda route: route.continue_(url=re.sub(r"limit=\d+", "limit=2", route.request.url)),
    )
    sign_in(b, boris["username"], boris["password"])
    open_chat(b, group)
    expect(b.locator(".msg-row.theirs", has_text="before")).to_be_visible()

    b.context.set_offline(True)
    expect(b.get_by_role("status").filter(has_text="No connection")).to_be_visible()
    syncs.clear()
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=10) as client:
        for i in (1, 2, 3):
            r = client.post(f"/messages/{chat_id}", json={"content": f"missed {i}"})
            assert r.status_code == 201, r.text
        renamed = client.patch(f"/chats/{chat_id}", json={"name": f"Summer plans {suffix}"})
        assert renamed.status_code == 200, renamed.text
        # Edited and deleted while away, too.
        edited = client.patch(
            f"/messages/{chat_id}/{first.json()['id']}", json={"content": "before (edited)"}
        )
        assert edited.status_code == 200, edited.text
        extra = client.post(f"/messages/{chat_id}", json={"content": "oops"}).json()
        deleted = client.delete(f"/messages/{chat_id}/{extra['id']}")
        assert deleted.status_code == 200, deleted.text
    # Nothing arrives while offline.
    expect(b.locator(".msg-row", has_text="missed 1")).to_have_count(0)

    b.context.set_offline(False)
    expect(b.locator(".chat-head-title")).to_have_text(f"Summer plans {suffix}")
    expect(b.locator(".chat-item", has_text=f"Summer plans {suffix}")).to_be_visible()
    rows = b.locator(".msg-row.theirs[data-seq]")
    expect(rows.locator(".msg-text")).to_have_text(
        ["before (edited)", "missed 1", "missed 2", "missed 3", "Message deleted"]
    )
    expect(rows.nth(0).locator(".msg-edited")).to_be_visible()
    expect(rows.nth(4).locator(".msg-deleted")).to_have_text("Message deleted")
    seqs = rows.evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    assert seqs == [1, 2, 3, 4, 5]
    expect(b.get_by_role("status").filter(has_text="No connection")).to_have_count(0)
    cursors = [
        int(m.group(1)) for url in syncs if (m := re.search(r"since=(?:[0-9a-z]+%3A)?(\d+)", url))
    ]
    assert len(set(cursors)) >= 4, syncs  # 8 changes, 2 a page, each page from the last cursor
    assert cursors == sorted(cursors), syncs

    # The cursor is kept with the cache: a reload catches up from it, not from scratch.
    b.wait_for_function(
        f"""() => {{
            const c = JSON.parse(localStorage.getItem('ic.cache.{boris["id"]}') || 'null');
            return c && typeof c.cursor === 'string' && c.chats['{chat_id}']?.name === 'Summer plans {suffix}';
        }}"""
    )
    syncs.clear()
    # The catch-up runs once the socket connects, after the cached chat is on screen: wait
    # for that request itself rather than for a status line that may not have shown yet.
    with b.expect_request(lambda r: "/sync" in r.url) as catch_up:
        b.reload()
        expect(b.locator(".chat-head-title")).to_have_text(f"Summer plans {suffix}")
        expect(rows).to_have_count(5)
    assert "since=" in catch_up.value.url, catch_up.value.url
    assert all("since=" in url for url in syncs), syncs


def test_adding_members_to_an_existing_group(live_server: Any, new_page: Any, member: Any) -> None:
    suffix = uuid.uuid4().hex[:5]
    anna = member("anna", display_name=f"Anna {suffix}")
    boris = member("boris", display_name=f"Boris {suffix}")
    clara = member("clara", display_name=f"Clara {suffix}")
    group = f"Cousins {suffix}"
    make_group(live_server, anna, group, boris)

    a = new_page(viewport=DESKTOP)
    sign_in(a, anna["username"], anna["password"])
    c = new_page(viewport=PHONE)
    sign_in(c, clara["username"], clara["password"])
    expect(c.locator(".chat-item", has_text=group)).to_have_count(0)

    open_chat(a, group)
    send(a, "Welcome, everyone")
    a.get_by_role("button", name="Chat info", exact=True).click()
    info = a.get_by_role("dialog", name=group)
    expect(info).to_contain_text("2 members")
    info.get_by_role("button", name="Add members").click()
    info.get_by_role("checkbox", name=f"Clara {suffix}").check()
    info.get_by_role("button", name="Add members").click()
    expect(info).to_contain_text("3 members")
    expect(info.get_by_role("list").first).to_contain_text(f"Clara {suffix}")
    info.get_by_role("button", name="Close").click()
    expect(a.locator(".chat-head-sub")).to_contain_text("3 members")

    # Clara gets the group at once, with its history, and can write in it.
    open_chat(c, group)
    expect(c.locator(".msg-row.theirs", has_text="Welcome, everyone")).to_be_visible()
    send(c, "Thanks for adding me")
    expect(a.locator(".msg-row.theirs", has_text="Thanks for adding me")).to_be_visible()


def test_unknown_cursor_starts_fresh(live_server: Any, new_page: Any, member: Any) -> None:
    """A cursor the server does not know (a restored backup) drops the local state: `reset`."""
    m = member("reset")
    make_group(live_server, m, "Kept")
    page = new_page()
    sign_in(page, m["username"], m["password"])
    expect(page.locator(".chat-item", has_text="Kept")).to_be_visible()
    key = f"ic.cache.{m['id']}"
    page.wait_for_function(
        f"() => typeof JSON.parse(localStorage.getItem('{key}') || '{{}}').cursor === 'string'"
    )
    # A cache from "another server": a chat that does not exist, a cursor far ahead.
    page.evaluate(
        f"""() => {{
            const c = JSON.parse(localStorage.getItem('{key}'));
            const ghost = {{...Object.values(c.chats)[0], id: 'ghost-chat', name: 'Ghost'}};
            c.chats['ghost-chat'] = ghost;
            c.messages['ghost-chat'] = [];
            c.cursor = 1e12;
            localStorage.setItem('{key}', JSON.stringify(c));
        }}"""
    )
    page.context.set_offline(True)
    page.reload()
    expect(page.locator(".chat-item", has_text="Ghost")).to_be_visible()
    page.context.set_offline(False)
    expect(page.locator(".chat-item", has_text="Ghost")).to_have_count(0)
    expect(page.locator(".chat-item", has_text="Kept")).to_be_visible()
    page.wait_for_function(
        f"() => typeof JSON.parse(localStorage.getItem('{key}')).cursor === 'string'"
    )


def test_opening_a_chat_at_the_first_unread_message(
    live_server: Any, new_page: Any, member: Any
) -> None:
    suffix = uuid.uuid4().hex[:5]
    anna = member("anna", display_name=f"Anna {suffix}")
    boris = member("boris", display_name=f"Boris {suffix}")
    group = f"News {suffix}"
    chat_id = make_group(live_server, anna, group, boris)
    with httpx.Client(base_url=live_server.url, headers=auth(live_server, anna)) as client:
        for i in range(1, 6):
            client.post(f"/messages/{chat_id}", json={"content": f"old {i}"}).raise_for_status()
        boris_auth = auth(live_server, boris)
        httpx.post(
            f"{live_server.url}/chats/{chat_id}/read", json={"seq": 5}, headers=boris_auth
        ).raise_for_status()
        for i in range(1, 41):
            client.post(f"/messages/{chat_id}", json={"content": f"new {i:02d}"}).raise_for_status()

    b = new_page(viewport=PHONE)
    sign_in(b, boris["username"], boris["password"])
    item = b.locator(".chat-item", has_text=group)
    expect(item.locator(".badge")).to_have_text("40")
    item.click()
    sep = b.get_by_role("separator").filter(has_text="Unread messages")
    expect(sep).to_be_in_viewport()
    expect(b.locator(".msg-row", has_text="new 01")).to_be_in_viewport()
    expect(b.locator(".msg-row", has_text="new 40")).not_to_be_in_viewport()
    # The line sits right before the first unread message.
    assert sep.evaluate("e => e.nextElementSibling.textContent").startswith("new 01")
    shot(b, "phone-unread-light.png")
    # Not read yet: only reaching the bottom reads them.
    down = b.get_by_role("button", name="Scroll to the latest message")
    expect(down.locator(".badge")).to_have_text("40")
    down.click()
    expect(b.locator(".msg-row", has_text="new 40")).to_be_in_viewport()
    b.get_by_role("button", name="Back").click()
    expect(item.locator(".badge")).to_have_count(0)


def test_an_edit_typed_at_once_is_saved_on_a_busy_page(new_page: Any, member: Any) -> None:
    """The editor's text is set with the render that names it "Edit message", not in a
    later effect: on a busy page (no animation frames, so plain effects wait for their
    100 ms fallback) a quick typist's edit used to be overwritten by the old text, and
    Enter then saved nothing (the Russian "изменено" check failed so, now and then)."""
    m = member("quick")
    page = new_page(viewport=PHONE)
    page.add_init_script("window.requestAnimationFrame = () => 0")
    page.reload()
    sign_in(page, m["username"], m["password"])
    page.locator(".chat-item", has_text="Family").first.click()
    composer = page.get_by_role("textbox", name="Message")
    composer.fill("first words")
    composer.press("Enter")
    sent = page.locator(".msg-row.mine[data-seq]", has_text="first words")
    expect(sent).to_be_visible()
    mine = page.locator(f'.msg-row[data-message-id="{sent.get_attribute("data-message-id")}"]')
    mine.get_by_role("button", name="Message actions").click()
    page.get_by_role("menuitem", name="Edit").click()
    editor = page.get_by_role("textbox", name="Edit message")
    editor.fill("better words")
    editor.press("Enter")
    expect(mine.locator(".msg-edited")).to_have_text("edited")
    expect(mine.locator(".msg-text")).to_have_text("better words")
