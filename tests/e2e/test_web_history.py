"""History paging: older pages load as the reader scrolls up, without duplicates."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import api_token, sign_in

pytestmark = pytest.mark.browser

COUNT = 130


def test_scrolling_up_loads_older_pages(live_server: Any, new_page: Any, member: Any) -> None:
    m = member("pager")
    headers = {
        "Authorization": f"Bearer {api_token(live_server.url, m['username'], m['password'])}"
    }
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=10) as client:
        chat = client.post("/chats", json={"name": "Archive", "participantIds": []})
        assert chat.status_code == 201, chat.text
        chat_id = chat.json()["id"]
        for i in range(1, COUNT + 1):
            r = client.post(f"/messages/{chat_id}", json={"content": f"history message {i:03d}"})
            assert r.status_code == 201, r.text

    page = new_page()
    sign_in(page, m["username"], m["password"])
    page.locator(".chat-item", has_text="Archive").click()
    expect(page.locator(".msg-row", has_text=f"history message {COUNT:03d}")).to_be_visible()
    log = page.get_by_role("log")
    # Opening near the top of what is loaded fetches an older page at once: let it land.
    expect(log).to_have_attribute("aria-busy", "false")
    rows = page.locator(".msg-row[data-seq]")
    first_page = rows.count()
    assert 0 < first_page < COUNT
    expect(page.locator(".msg-row", has_text="history message 001")).to_have_count(0)

    scroller = page.locator(".messages")
    for _ in range(10):
        if page.locator(".msg-row", has_text="history message 001").count():
            break
        before = rows.count()
        oldest = rows.first.get_attribute("data-seq")
        scroller.evaluate("el => { el.scrollTop = 0; }")
        expect(rows).not_to_have_count(before)
        expect(log).to_have_attribute("aria-busy", "false")
        # What the reader was looking at stays in place while older messages are prepended.
        expect(page.locator(f'.msg-row[data-seq="{oldest}"]')).to_be_in_viewport()
        assert scroller.evaluate("el => el.scrollTop") > 0
    expect(page.locator(".msg-row", has_text="history message 001")).to_have_count(1)
    expect(page.get_by_text("This is the beginning of the chat")).to_be_visible()

    seqs = rows.evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    texts = page.locator(".msg-row[data-seq] .msg-text").all_text_contents()
    assert len(seqs) == len(set(seqs)) == COUNT
    assert seqs == sorted(seqs)
    assert len(set(texts)) == COUNT

    scroller.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(page.locator(".msg-row", has_text=f"history message {COUNT:03d}")).to_be_in_viewport()
