"""Dark theme and the Russian interface; switching both in the settings."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, shot

pytestmark = pytest.mark.browser

DARK_SURFACE = "rgb(18, 19, 24)"
LIGHT_SURFACE = "rgb(249, 249, 255)"


def body_background(page: Any) -> str:
    return str(page.evaluate("getComputedStyle(document.body).backgroundColor"))


def test_dark_theme_and_russian_interface(live_server: Any, new_page: Any, member: Any) -> None:
    m = member("dasha", display_name="Даша Иванова")
    page = new_page(viewport=PHONE, locale="ru-RU", color_scheme="dark")
    expect(page.get_by_role("button", name="Войти")).to_be_visible()
    assert body_background(page) == DARK_SURFACE
    shot(page, "phone-login-dark.png")
    page.get_by_label("Имя пользователя").fill(m["username"])
    page.get_by_label("Пароль").fill("wrong-password")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_have_text("Неверное имя пользователя или пароль.")
    page.get_by_label("Пароль").fill(m["password"])
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Чаты")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "ru"

    page.locator(".chat-item", has_text="Семья").or_(
        page.locator(".chat-item", has_text="Family")
    ).first.click()
    composer = page.get_by_role("textbox", name="Сообщение")
    composer.fill("Привет всем! 🌙")
    composer.press("Enter")
    mine = page.locator(".msg-row.mine[data-seq]", has_text="Привет всем!")
    expect(mine).to_be_visible()
    expect(page.locator(".day-sep").last).to_have_text("Сегодня")
    bubble = mine.locator(".bubble")
    assert bubble.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(47, 74, 143)"
    assert bubble.evaluate("el => getComputedStyle(el).color") == "rgb(238, 241, 255)"
    shot(page, "phone-chat-dark.png")

    # Editing and deleting speak Russian too.
    mine = page.locator(f'.msg-row[data-message-id="{mine.get_attribute("data-message-id")}"]')
    mine.get_by_role("button", name="Действия с сообщением").click()
    page.get_by_role("menuitem", name="Изменить").click()
    editor = page.get_by_role("textbox", name="Редактирование")
    editor.fill("Всем привет! 🌙")
    editor.press("Enter")
    expect(mine.locator(".msg-edited")).to_have_text("изменено")
    mine.get_by_role("button", name="Действия с сообщением").click()
    page.get_by_role("menuitem", name="Удалить").click()
    page.get_by_role("dialog", name="Удалить у всех").get_by_role(
        "button", name="Удалить у всех"
    ).click()
    expect(mine.locator(".msg-deleted")).to_have_text("Сообщение удалено")
    composer.fill("Привет всем! 🌙")
    composer.press("Enter")
    expect(page.locator(".msg-row.mine[data-seq]", has_text="Привет всем!")).to_be_visible()

    page.get_by_role("button", name="Назад").click()
    shot(page, "phone-chats-dark.png")
    page.get_by_role("button", name="Настройки").click()
    expect(page.get_by_role("heading", name="Настройки")).to_be_visible()
    shot(page, "phone-settings-dark.png")

    # Switch to the light theme, then to English.
    page.get_by_text("Светлая").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert body_background(page) == LIGHT_SURFACE
    page.get_by_label("Язык").select_option("en")
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    page.get_by_text("Dark", exact=True).click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert body_background(page) == DARK_SURFACE

    # The choice is remembered.
    page.reload()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")


def test_desktop_dark_layout(live_server: Any, new_page: Any, member: Any) -> None:
    m = member("desk", display_name="Desk Dark")
    page = new_page(viewport=DESKTOP, color_scheme="dark")
    page.get_by_label("Username").fill(m["username"])
    page.get_by_label("Password").fill(m["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Chats")).to_be_visible()
    page.locator(".chat-item", has_text="Family").click()
    # Two panes: the list stays visible next to the chat.
    expect(page.locator(".pane-list")).to_be_visible()
    expect(page.locator(".chat-head-title")).to_have_text("Family")
    composer = page.get_by_role("textbox", name="Message")
    composer.fill("Good evening from the desktop")
    composer.press("Enter")
    expect(page.locator(".msg-row.mine[data-seq]", has_text="Good evening")).to_be_visible()
    assert body_background(page) == DARK_SURFACE
    shot(page, "desktop-chat-dark.png")
    page.get_by_role("button", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    shot(page, "desktop-settings-dark.png")
