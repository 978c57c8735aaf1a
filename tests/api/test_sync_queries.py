"""What catch-up and history paging cost the database: ``/sync`` from an old cursor reads
only the member's own entries through indexes (not the whole log, other people's chats
included), and ``offset`` is capped (deeper paging is keyset, ``before``/``after``)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event

from inner_circle.core import limits
from inner_circle.sdk import BadRequest
from tests.support import Family

SYNC_INDEXES = {"ix_sync_log_chat", "ix_sync_log_removed", "ix_sync_log_user"}
OTHERS_ENTRIES = 20_000


@contextmanager
def statements_of(family: Family) -> Iterator[list[tuple[str, Any]]]:
    """The SQL (and parameters) the live server sends to its database meanwhile."""
    engine = family.server.app.other_asgi_app.state.engine.sync_engine
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def fill_log_with_others_chats(database_url: str) -> None:
    """A long history in a chat the member is not in (as in a family's real log)."""
    chat = uuid.uuid4()
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.split(":///", 1)[1])
        with connection:
            connection.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                'INSERT INTO sync_log (kind, "chatId", seq, "createdAt") '
                "SELECT 'message', ?, i, '2026-01-01 00:00:00' FROM n",
                (OTHERS_ENTRIES, chat.hex),
            )
            connection.execute("ANALYZE")
        connection.close()
        return
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        await connection.execute(
            'INSERT INTO sync_log (kind, "chatId", seq, "createdAt") '
            "SELECT 'message', $1, i, now() FROM generate_series(1, $2) AS i",
            chat,
            OTHERS_ENTRIES,
        )
        await connection.execute("ANALYZE sync_log")
    finally:
        await connection.close()


async def plan(database_url: str, statement: str, parameters: Any) -> list[tuple[str, str]]:
    """(how, index) for every read of ``sync_log`` in the database's plan for ``statement``."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.split(":///", 1)[1])
        try:
            rows = connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
        finally:
            connection.close()
        reads = []
        for *_, detail in rows:
            if "sync_log" in detail:
                index = detail.split(" INDEX ", 1)[1].split(" ")[0] if " INDEX " in detail else ""
                reads.append((detail, index))
        return reads
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        (document,) = await connection.fetchrow(f"EXPLAIN (FORMAT JSON) {statement}", *parameters)
    finally:
        await connection.close()
    reads = []
    stack = [json.loads(document)[0]["Plan"]]
    while stack:
        node = stack.pop()
        if node.get("Relation Name") == "sync_log":
            reads.append((node["Node Type"], node.get("Index Name", "")))
        stack.extend(node.get("Plans", []))
    return reads


async def test_sync_from_an_old_cursor_reads_through_indexes(
    family: Family, database_url: str
) -> None:
    anna = await family.member("anna")
    ben = await family.member("ben")
    cursor = (await anna.sync()).cursor
    await fill_log_with_others_chats(database_url)
    group = await ben.create_group("Dacha", [anna.user_id])
    await ben.post_message(group.id, "see you on Saturday")
    await ben.update_profile("Ben B.")
    await ben.remove_member(group.id, anna.user_id)
    await ben.post_message((await ben.family_chat()).id, "after the removal")

    with statements_of(family) as seen:
        page = await anna.sync(cursor)
    kinds = [e.type for e in page.events]
    assert kinds == ["user", "chatRemoved", "message"], kinds  # the group is gone for anna
    assert not page.has_more

    (statement, parameters), *_ = [
        (s, p) for s, p in seen if "sync_log" in s and "ORDER BY sync_log.id" in s
    ]
    reads = await plan(database_url, statement, parameters)
    assert reads, "the sync query does not read sync_log"
    assert all(index in SYNC_INDEXES for _, index in reads), reads
    assert {index for _, index in reads} == SYNC_INDEXES


async def test_sync_pages_across_chats_removals_and_members_stay_complete(
    family: Family,
) -> None:
    anna = await family.member("anna")
    ben = await family.member("ben")
    cursor = (await anna.sync()).cursor
    home = await anna.family_chat()
    group = await ben.create_group("Cousins", [anna.user_id])
    old = await ben.create_group("Old", [anna.user_id])
    for i in range(3):
        await ben.post_message(home.id, f"home {i}")
        await ben.post_message(group.id, f"group {i}")
    await ben.update_profile("Ben")
    await ben.remove_member(old.id, anna.user_id)
    await ben.post_message(old.id, "not for anna any more")
    await ben.post_message(home.id, "home after")

    whole = await anna.sync(cursor, limit=500)
    paged = []
    at = cursor
    while True:
        page = await anna.sync(at, limit=2)
        paged.extend(page.events)
        at = page.cursor
        if not page.has_more:
            break
    assert [e.id for e in paged] == sorted(e.id for e in paged)  # in order, no duplicate
    contents = [e.message.content for e in whole.events if e.type == "message" and e.message]
    assert contents == [
        "home 0", "group 0", "home 1", "group 1", "home 2", "group 2", "home after"
    ]  # fmt: skip
    assert [e.type for e in whole.events if e.type in ("user", "chatRemoved")] == [
        "user",
        "chatRemoved",
    ]
    # Paging gives the same messages as one page (chat views come once per page).
    assert [e.id for e in paged if e.type != "chat"] == [
        e.id for e in whole.events if e.type != "chat"
    ]
    assert at == whole.cursor


async def test_offset_is_capped(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    chat = await anna.family_chat()
    await anna.post_message(chat.id, "hello")
    assert await anna.history(chat.id, offset=limits.PAGE_OFFSET_MAX) == []
    with pytest.raises(BadRequest):
        await anna.history(chat.id, offset=limits.PAGE_OFFSET_MAX + 1)
    assert await anna.get_messages(chat.id, offset=limits.PAGE_OFFSET_MAX) == []
    with pytest.raises(BadRequest) as refused:
        await anna.get_messages(chat.id, offset=limits.PAGE_OFFSET_MAX + 1)
    assert refused.value.code == "VALIDATION_FAILED"
