"""Search from the chat list and inside a chat: results as you type, the matching words
marked, and a tapped result opens its chat scrolled to the message, outlined."""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from inner_circle.sdk import InnerCircleClient
from tests.e2e.conftest import DESKTOP, PHONE, api_token, shot, sign_in
from tests.media.conftest import png

pytestmark = pytest.mark.browser

COUNT = 150
NEEDLE_AT = 20
# The class the opened message carries while it is outlined.
FOUND = re.compile(r"\bfound\b")


def fill_chat(live_server: Any, owner: dict[str, Any], name: str, needle: str) -> str:
    """A group of COUNT messages; message NEEDLE_AT says ``needle``."""
    token = api_token(live_server.url, owner["username"], owner["password"])
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        chat = client.post("/chats", json={"name": name, "participantIds": []})
        assert chat.status_code == 201, chat.text
        chat_id = str(chat.json()["id"])
        for i in range(1, COUNT + 1):
            text = needle if i == NEEDLE_AT else f"message number {i:03d}"
            r = client.post(f"/messages/{chat_id}", json={"content": text})
            assert r.status_code == 201, r.text
    return chat_id


async def _photo_and_text(url: str, owner: dict[str, Any], name: str) -> None:
    """A group where the owner sent a photo with a caption and a text about the same."""
    async with InnerCircleClient(url) as client:
        await client.login(owner["username"], owner["password"])
        chat = await client.create_group(name, [])
        photo = await client.upload_file(png(), name="tomatoes.png")
        await client.post_message(chat.id, "first tomatoes", attachment_ids=[photo.id])
        await client.post_message(chat.id, "tomatoes need water")


def test_search_from_the_chat_list_opens_the_message(
    live_server: Any, new_page: Any, member: Any
) -> None:
    suffix = uuid.uuid4().hex[:5]
    anna = member("anna", display_name=f"Anna {suffix}")
    fill_chat(live_server, anna, f"Kitchen {suffix}", "Бабушкины рецепты пирогов с капустой")

    page = new_page()
    sign_in(page, anna["username"], anna["password"])
    page.get_by_role("button", name="Search messages").click()
    field = page.get_by_role("searchbox", name="Search messages")
    field.fill("рецепт")
    hit = page.locator(".search-hit", has_text="пирогов")
    expect(hit).to_have_count(1)
    expect(hit.locator("mark")).to_have_text(["рецепты"])
    expect(hit).to_contain_text(f"Kitchen {suffix}")
    # On a phone the filters take a row of their own: the query keeps most of the width.
    expect(field).to_be_in_viewport(ratio=1)
    box = field.bounding_box()
    assert box is not None and box["width"] >= 0.6 * PHONE["width"], box
    for select in page.locator(".search-sender").all():
        expect(select).to_be_in_viewport(ratio=1)
    shot(page, "search-results-phone.png")

    hit.click()
    expect(page.locator(".chat-head-title")).to_have_text(f"Kitchen {suffix}")
    row = page.locator(".msg-row", has_text="Бабушкины рецепты")
    expect(row).to_be_in_viewport()
    expect(row).to_have_class(FOUND)
    shot(page, "search-opened-message-phone.png")
    # Far from the newest messages: those are not in view, the ↓ button is.
    expect(page.locator(".msg-row", has_text=f"message number {COUNT:03d}")).not_to_be_in_viewport()
    expect(page.get_by_role("button", name="Scroll to the latest message")).to_be_visible()


def test_search_with_photos_only(live_server: Any, new_page: Any, member: Any) -> None:
    suffix = uuid.uuid4().hex[:5]
    anna = member("anna", display_name=f"Anna {suffix}")
    # Playwright's sync API keeps an event loop on this thread: the SDK runs on another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(
            asyncio.run, _photo_and_text(live_server.url, anna, f"Garden {suffix}")
        ).result()

    page = new_page()
    sign_in(page, anna["username"], anna["password"])
    page.get_by_role("button", name="Search messages").click()
    page.get_by_role("searchbox", name="Search messages").fill("tomatoes")
    expect(page.locator(".search-hit")).to_have_count(2)
    page.get_by_label("With", exact=True).select_option("photo")
    hit = page.locator(".search-hit")
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text("first tomatoes")


def test_search_inside_a_chat_in_russian(live_server: Any, new_page: Any, member: Any) -> None:
    suffix = uuid.uuid4().hex[:5]
    anna = member("anna", display_name=f"Анна {suffix}")
    title = f"Dacha {suffix}"
    fill_chat(live_server, anna, title, "We found the old pancake recipes in the attic")

    page = new_page(viewport=DESKTOP, locale="ru-RU")
    page.get_by_label("Имя пользователя").fill(anna["username"])
    page.get_by_label("Пароль").fill(anna["password"])
    page.get_by_role("button", name="Войти").click()
    page.locator(".chat-item", has_text=title).click()
    expect(page.locator(".msg-row", has_text=f"message number {COUNT:03d}")).to_be_visible()

    page.get_by_role("button", name="Поиск в этом чате").click()
    page.get_by_role("searchbox", name="Поиск в этом чате").fill("Recipe")
    hit = page.locator(".search-hit", has_text="pancake")
    expect(hit.locator("mark")).to_have_text(["recipes"])
    shot(page, "search-in-chat-desktop-ru.png")
    page.get_by_role("searchbox", name="Поиск в этом чате").fill("нет такого слова")
    expect(page.get_by_text("Ничего не найдено")).to_be_visible()
    page.get_by_role("searchbox", name="Поиск в этом чате").fill("recipe")
    hit.click()
    expect(page.locator(".search-panel")).to_have_count(0)
    row = page.locator(".msg-row", has_text="old pancake recipes")
    expect(row).to_be_in_viewport()
    expect(row).to_have_class(FOUND)


def test_a_result_in_a_chat_deleted_from_the_list_opens_it(
    live_server: Any, new_page: Any, member: Any
) -> None:
    suffix = uuid.uuid4().hex[:5]
    anna = member("anna", display_name=f"Anna {suffix}")
    ben = member("ben", display_name=f"Ben {suffix}")
    token = api_token(live_server.url, anna["username"], anna["password"])
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        chat = client.post("/chats/private", json={"targetUserId": ben["id"]}).json()
        sent = client.post(f"/messages/{chat['id']}", json={"content": "the dacha keys are here"})
        assert sent.status_code == 201, sent.text
        assert client.delete(f"/chats/{chat['id']}").status_code == 200

    page = new_page()
    sign_in(page, anna["username"], anna["password"])
    expect(page.locator(".chat-item", has_text=f"Ben {suffix}")).to_have_count(0)
    page.get_by_role("button", name="Search messages").click()
    page.get_by_role("searchbox", name="Search messages").fill("key")
    page.locator(".search-hit", has_text="dacha keys").click()
    expect(page.locator(".chat-head-title")).to_have_text(f"Ben {suffix}")
    expect(page.locator(".msg-row", has_text="the dacha keys are here")).to_be_in_viewport()
