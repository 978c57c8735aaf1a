"""GET /search: words in any form, in Russian and English, newest first, only in what the
member may read; edits and deletions change what matches at once. Every test runs on
SQLite (FTS5) and PostgreSQL (tsvector), which must answer alike (ADR 0015)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from inner_circle.protocol.rest import SearchPageOut
from inner_circle.sdk.errors import BadRequest, NotFoundError, RateLimitedError
from inner_circle.server.db import migrate
from tests.media.conftest import png
from tests.support import PASSWORD, Family, StartServer, threaded_servers


def contents(page: SearchPageOut) -> list[str]:
    return [hit.message.content for hit in page.hits]


def marked(page: SearchPageOut) -> list[list[str]]:
    """The highlighted words of each hit, as the client would cut them out (UTF-16)."""
    found = []
    for hit in page.hits:
        units = hit.message.content.encode("utf-16-le")
        found.append([units[2 * r.start : 2 * r.end].decode("utf-16-le") for r in hit.highlights])
    return found


async def test_words_match_in_any_form_in_both_languages(family: Family) -> None:
    anna = await family.member("anna")
    ben = await family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    await anna.post_message(chat.id, "Бабушкины рецепты пирогов")
    await ben.post_message(chat.id, "I found the recipe for pancakes")
    await anna.post_message(chat.id, "Ёлку ставим в субботу")
    await ben.post_message(chat.id, "Купи ЕЛКИ и свечи 🎄 для ёлки")
    await anna.post_message(chat.id, "Nothing to see here")

    assert contents(await ben.search("рецепт")) == ["Бабушкины рецепты пирогов"]
    assert contents(await ben.search("рецептами ")) == ["Бабушкины рецепты пирогов"]
    assert contents(await ben.search("Recipes")) == ["I found the recipe for pancakes"]
    assert contents(await anna.search("pancake recipe")) == ["I found the recipe for pancakes"]
    # ё and е are one letter to search; case does not matter; newest first.
    assert contents(await anna.search("елка")) == [
        "Купи ЕЛКИ и свечи 🎄 для ёлки",
        "Ёлку ставим в субботу",
    ]
    # Every word must occur; a word that never occurs finds nothing.
    assert contents(await anna.search("рецепт pancakes")) == []
    assert contents(await anna.search("огурец ")) == []
    # Highlights name the matching words, counted as JavaScript counts (after an emoji).
    page = await anna.search("ёлки")
    assert marked(page) == [["ЕЛКИ", "ёлки"], ["Ёлку"]]


async def test_the_last_word_may_be_unfinished(family: Family) -> None:
    anna = await family.member("anna")
    chat = await anna.family_chat()
    await anna.post_message(chat.id, "Поздравляем с днём рождения!")
    await anna.post_message(chat.id, "Congratulations on the graduation")

    assert contents(await anna.search("рожден")) == ["Поздравляем с днём рождения!"]
    assert contents(await anna.search("днём рожд")) == ["Поздравляем с днём рождения!"]
    assert contents(await anna.search("congrat")) == ["Congratulations on the graduation"]
    # A finished word (followed by a space) is a whole word, not the start of one.
    assert contents(await anna.search("congrat ")) == []
    assert marked(await anna.search("gradu")) == [["graduation"]]


async def test_edits_and_deletions_change_what_matches(family: Family) -> None:
    anna = await family.member("anna")
    ben = await family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    soup = await anna.post_message(chat.id, "Суп на обед")
    cake = await anna.post_message(chat.id, "Chocolate cake tonight")

    await anna.edit_message(chat.id, soup.id, "Борщ на ужин")
    assert contents(await ben.search("суп")) == []
    assert contents(await ben.search("обед")) == []
    edited = await ben.search("борщ")
    assert contents(edited) == ["Борщ на ужин"]
    assert edited.hits[0].message.edited_at is not None

    await anna.delete_message(chat.id, cake.id)
    assert contents(await ben.search("chocolate")) == []
    # The edited message keeps its place among the newest-first results.
    await anna.post_message(chat.id, "Ещё борщ остался")
    assert contents(await ben.search("борщ")) == ["Ещё борщ остался", "Борщ на ужин"]
    # Edited into words that are not words at all: it matches nothing.
    await anna.edit_message(chat.id, soup.id, "👍 !!!")
    assert contents(await ben.search("борщ")) == ["Ещё борщ остался"]


async def test_only_chats_the_member_reads_today(family: Family) -> None:
    anna = await family.member("anna")
    ben = await family.member("ben")
    carl = await family.member("carl")
    dora = await family.member("dora")
    private = await anna.private_chat(ben.user_id)
    await anna.post_message(private.id, "пароль от вайфая")
    group = await anna.create_group("Dacha", [ben.user_id, carl.user_id])
    await anna.post_message(group.id, "пароль от калитки")
    closed = await anna.create_group("Closed", [ben.user_id], new_members_see_history=False)
    await anna.post_message(closed.id, "старый пароль от сейфа")

    # A chat never joined: nothing from it, and naming it is "not found".
    assert contents(await carl.search("пароль")) == ["пароль от калитки"]
    with pytest.raises(NotFoundError):
        await carl.search("пароль", chat_id=private.id)
    # A former member finds nothing of the chat any more.
    await anna.remove_member(group.id, carl.user_id)
    assert contents(await carl.search("пароль")) == []
    with pytest.raises(NotFoundError):
        await carl.search("пароль", chat_id=group.id)
    # A newcomer to a group that keeps its history sees only what came after joining.
    await anna.add_members(closed.id, [dora.user_id])
    await anna.post_message(closed.id, "новый пароль от сейфа")
    assert contents(await dora.search("пароль")) == ["новый пароль от сейфа"]
    assert contents(await ben.search("пароль сейф", chat_id=closed.id)) == [
        "новый пароль от сейфа",
        "старый пароль от сейфа",
    ]


async def test_filters_and_paging(family: Family) -> None:
    anna = await family.member("anna")
    ben = await family.member("ben")
    chat = await anna.family_chat()
    other = await anna.private_chat(ben.user_id)
    for n in range(5):
        await anna.post_message(chat.id, f"photo {n} from anna")
        await ben.post_message(chat.id, f"photo {n} from ben")
    await ben.post_message(other.id, "photos for anna only")

    by_ben = await anna.search("photo", sender_id=ben.user_id, chat_id=chat.id)
    assert contents(by_ben) == [f"photo {n} from ben" for n in reversed(range(5))]
    assert by_ben.next_before is None

    seen: list[str] = []
    before = None
    while True:
        page = await anna.search("photos", before=before, limit=4)
        seen += contents(page)
        if page.next_before is None:
            break
        before = page.next_before
    everyone = [f"photo {n} from {who}" for n in reversed(range(5)) for who in ("ben", "anna")]
    assert seen == ["photos for anna only", *everyone]
    hit = (await anna.search("photos")).hits[0]
    assert (hit.message.chat_id, hit.message.sender.id) == (other.id, ben.user_id)


async def test_has_narrows_to_messages_with_photos_files_or_voice(family: Family) -> None:
    anna = await family.member("anna")
    ben = await family.member("ben")
    chat = await anna.family_chat()
    photo = await anna.upload_file(png(), name="dacha.png")
    paper = await anna.upload_file(b"%PDF-1.4 the dacha deed", name="deed.pdf")
    await anna.post_message(chat.id, "dacha in May", attachment_ids=[photo.id])
    await anna.post_message(chat.id, "dacha papers", attachment_ids=[paper.id])
    await anna.post_message(chat.id, "dacha plans, no files")

    assert contents(await ben.search("dacha")) == [
        "dacha plans, no files",
        "dacha papers",
        "dacha in May",
    ]
    photos = await ben.search("dacha", has="photo")
    assert contents(photos) == ["dacha in May"]
    # A hit is the message as history shows it: with its files and fresh links.
    (shown,) = photos.hits[0].message.attachments
    assert (shown.kind, shown.name, shown.width) == ("image", "dacha.png", 40)
    assert shown.url
    assert contents(await ben.search("dacha", has="file")) == ["dacha papers"]
    assert contents(await ben.search("dacha", has="voice")) == []
    with pytest.raises(BadRequest):
        await ben.search("dacha", has="spreadsheet")


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"q": ""}, "q"),
        ({"q": "!!! ?"}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": " ".join(["слово"] * 13)}, "q"),
        ({"q": "hello", "before": "abc"}, "before"),
        ({"q": "hello", "before": "-5"}, "before"),
        ({"q": "hello", "before": "99999999999999999999"}, "before"),
        ({"q": "hello", "chatId": "not-a-uuid"}, "chatId"),
        ({"q": "hello", "limit": "0"}, "limit"),
    ],
)
async def test_bad_queries_are_refused(
    family: Family, params: dict[str, str], problem: str
) -> None:
    anna = await family.member("anna")
    async with httpx.AsyncClient(base_url=family.url) as http:
        response = await http.get(
            "/search", params=params, headers={"Authorization": f"Bearer {anna.access_token}"}
        )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert problem in response.text
    if problem in ("q", "before"):
        with pytest.raises(BadRequest):  # the SDK says the same
            await anna.search(params["q"], before=params.get("before"))


async def test_search_is_rate_limited_per_member(start_server: StartServer) -> None:
    family = await start_server(limit_search_burst=3, limit_search_per_second=0.01)
    anna = await family.member("anna")
    ben = await family.member("ben")
    for _ in range(3):
        await anna.search("hello")
    with pytest.raises(RateLimitedError) as refused:
        await anna.search("hello")
    assert refused.value.status == 429
    assert (await ben.search("hello")).hits == []  # another member has a budget of their own


async def test_the_migration_indexes_messages_written_before_it(
    database_url: str, tmp_path: Path
) -> None:
    async with threaded_servers(database_url, tmp_path) as start:
        family = await start()
        anna = await family.member("anna")
        chat = await anna.family_chat()
        await anna.post_message(chat.id, "Старые рецепты")
        gone = await anna.post_message(chat.id, "Secret recipes")
        await anna.post_message(chat.id, "Новые рецепты")
        await anna.delete_message(chat.id, gone.id)
    # As if the database came from before search: no index, then the migration.
    await asyncio.to_thread(migrate.downgrade, database_url, "0011-1")
    await asyncio.to_thread(migrate.upgrade, database_url)
    async with threaded_servers(database_url, tmp_path) as start:
        family = await start()
        async with family.client() as anna:
            await anna.login("anna", PASSWORD)
            assert contents(await anna.search("рецепт")) == ["Новые рецепты", "Старые рецепты"]
            assert contents(await anna.search("secret")) == []


async def test_a_result_opens_in_its_context(family: Family) -> None:
    anna = await family.member("anna")
    ben = await family.member("ben", connect=True)
    chat = await anna.private_chat(ben.user_id)
    for n in range(1, 31):
        await anna.post_message(chat.id, "the needle" if n == 12 else f"hay {n}")
    (hit,) = (await ben.search("needle")).hits

    window = await ben.history(chat.id, around=hit.message.seq, limit=10)
    assert [m.seq for m in window] == list(range(7, 17))
    # Near either end the window holds what there is, still `limit` messages.
    assert [m.seq for m in await ben.history(chat.id, around=2, limit=6)] == list(range(1, 7))
    assert [m.seq for m in await ben.history(chat.id, around=30, limit=6)] == list(range(25, 31))
    assert [m.seq for m in await ben.get_messages(chat.id, around=12, limit=3)] == [11, 12, 13]
    # The highest place a chat can have: the newest messages (no overflow past it).
    newest = await ben.history(chat.id, around=2**31 - 1, limit=3)
    assert [m.seq for m in newest] == [28, 29, 30]
