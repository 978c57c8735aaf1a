"""``python -m bench search``: full-text search over N messages, through ``GET /search``.

The family: 20 members, the family chat and five groups of four. Messages are written
straight into the database (the same rows the send path writes: the message and its
search row, ``core.search_terms.terms``), 40% to the family chat and 12% to each group,
by every member of the chat in turn. Their words come from a vocabulary of 20,000
made-up Russian and English words drawn with Zipf's law (s = 1), 3 to 15 per message,
so a query meets every density: the most common word is in about half the messages,
the rare one in about a hundred. The searcher is in the family chat and one group: half
the messages are not theirs to find and must be skipped.

Every query is timed ``samples`` times, one after the other, end to end over HTTP; then
the search statement alone ("db"), on a connection of the bench's own, to tell the index's
cost from the HTTP path's on a busy machine.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bench.population import Member, populate
from bench.report import append_row, emit, git_commit, percentiles, today
from bench.server import ServerGroup, renice
from inner_circle.core.search_terms import terms

__all__ = ["search"]

COLUMNS = ["date", "commit", "backend", "messages", "seed s", "query", "hits", "n"]
COLUMNS += ["p50", "p90", "p99", "max", "db p50", "db p99", "load", "note"]
VOCABULARY = 20_000
BATCH = 20_000
_CYRILLIC = ["ба", "ве", "гу", "да", "жи", "зо", "ка", "ле", "ми", "но", "по", "ру", "са", "ти"]
_CYRILLIC += ["ух", "фа", "хо", "ца", "че", "ша", "ще", "ют", "яр", "ой", "ель", "ина", "ость"]
_LATIN = ["ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu", "ne", "pi", "ro", "sa"]
_LATIN += ["te", "vo", "wi", "ya", "zu", "ing", "er", "ly", "tion", "ment", "ous", "ar", "en"]


def _vocabulary(rng: random.Random) -> list[str]:
    """Distinct made-up words, most frequent first (half in each script, interleaved)."""
    words: dict[str, None] = {}
    while len(words) < VOCABULARY:
        syllables = _CYRILLIC if len(words) % 2 else _LATIN
        words[
            "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        ] = None  # fmt: skip
    return list(words)


def _chat_plan(
    chats: list[tuple[str, list[int]]], messages: int
) -> list[tuple[str, list[int], int]]:
    """(chat id, member indexes, message count): 40% family chat, the rest shared by groups."""
    family, *groups = chats
    first = messages * 4 // 10
    each = (messages - first) // len(groups)
    plan = [(family[0], family[1], first)]
    plan += [(chat_id, members, each) for chat_id, members in groups]
    plan[-1] = (plan[-1][0], plan[-1][1], plan[-1][2] + messages - first - each * len(groups))
    return plan


def _rows(
    plan: list[tuple[str, list[int], int]], people: list[Member], vocab: list[str], seed: int
) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of (message id, chat id, sender id, seq, content, created at), oldest first,
    chats interleaved as a family writes."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    queue = [(chat, members, count) for chat, members, count in plan]
    order: list[int] = [i for i, (_, _, count) in enumerate(queue) for _ in range(count)]
    rng.shuffle(order)
    seqs = [0] * len(queue)
    start = datetime.now(UTC) - timedelta(seconds=len(order))
    batch: list[tuple[Any, ...]] = []
    words = iter(rng.choices(vocab, cum_weights=cumulative, k=len(order) * 15))
    for n, index in enumerate(order):
        chat_id, members, _ = queue[index]
        seqs[index] += 1
        content = " ".join(next(words) for _ in range(rng.randint(3, 15)))
        sender = people[members[seqs[index] % len(members)]].user_id
        batch.append(
            (uuid.uuid4(), uuid.UUID(chat_id), uuid.UUID(sender), seqs[index], content,
             start + timedelta(seconds=n))
        )  # fmt: skip
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def _fill_postgres(servers: ServerGroup, batches: Iterator[list[tuple[Any, ...]]]) -> None:
    import asyncpg

    dsn = servers.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn)
    try:
        # One GIN build at the end is far faster than 1,000,000 index updates: drop the
        # full-text indexes the migrations made (migration 0013: over chat and words),
        # and build them again as they were.
        rebuild = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'message_search' AND indexdef LIKE '%USING gin%'"
        )
        for index in rebuild:
            await connection.execute(f"DROP INDEX {index['indexname']}")
        last: dict[uuid.UUID, int] = {}
        for batch in batches:
            naive = [(*row[:5], row[5].replace(tzinfo=None)) for row in batch]
            await connection.copy_records_to_table(
                "messages",
                records=[(m, c, s, q, t, at, at) for m, c, s, q, t, at in naive],
                columns=["id", "chatId", "senderId", "seq", "content", "createdAt", "updatedAt"],
            )
            await connection.copy_records_to_table(
                "message_search",
                records=[(m, c, s, q, terms(t)) for m, c, s, q, t, _ in naive],
                columns=["messageId", "chatId", "senderId", "seq", "terms"],
            )
            for _, chat_id, _, seq, _, _ in batch:
                last[chat_id] = max(last.get(chat_id, 0), seq)
        for index in rebuild:
            await connection.execute(index["indexdef"])
        for chat_id, seq in last.items():
            await connection.execute('UPDATE chats SET "lastSeq" = $2 WHERE id = $1', chat_id, seq)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def _fill_sqlite(servers: ServerGroup, batches: Iterator[list[tuple[Any, ...]]]) -> None:
    import sqlite3

    db = sqlite3.connect(servers.dir / "data" / "inner-circle.db", timeout=60)
    try:
        db.execute("PRAGMA synchronous=OFF")
        last: dict[str, int] = {}
        for batch in batches:
            rows = [
                (m.hex, c.hex, s.hex, q, t, at.strftime("%Y-%m-%d %H:%M:%S.%f"))
                for m, c, s, q, t, at in batch
            ]
            db.executemany(
                "INSERT INTO messages (id, chatId, senderId, seq, content, createdAt, updatedAt)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*row, row[5]) for row in rows],
            )
            # The FTS5 table follows through the triggers of migration 0011.
            db.executemany(
                "INSERT INTO message_search (messageId, chatId, senderId, seq, terms)"
                " VALUES (?, ?, ?, ?, ?)",
                [(m, c, s, q, terms(t)) for m, c, s, q, t, _ in rows],
            )
            for _, chat_id, _, seq, _, _ in rows:
                last[chat_id] = max(last.get(chat_id, 0), seq)
            db.commit()
        for chat_id, seq in last.items():
            db.execute("UPDATE chats SET lastSeq = ? WHERE id = ?", (seq, chat_id))
        db.execute("INSERT INTO message_search_fts(message_search_fts) VALUES ('optimize')")
        db.commit()
        db.execute("ANALYZE")
    finally:
        db.close()


def _queries(vocab: list[str], group_id: str) -> list[tuple[str, dict[str, str]]]:
    return [
        ("most common word", {"q": vocab[0] + " "}),
        ("common word (rank 10)", {"q": vocab[10] + " "}),
        ("medium word (rank 300)", {"q": vocab[300] + " "}),
        ("rare word (rank 8000)", {"q": vocab[8000] + " "}),
        ("two words (ranks 10 + 300)", {"q": f"{vocab[10]} {vocab[300]} "}),
        ("typing: 3-letter prefix", {"q": vocab[31][:3]}),
        ("typing: 5-letter prefix", {"q": vocab[31][:5]}),
        ("no match", {"q": "zzzzqqq "}),
        ("in one group, medium word", {"q": vocab[300] + " ", "chatId": group_id}),
    ]


async def _measure(
    url: str, me: Member, queries: list[tuple[str, dict[str, str]]], samples: int
) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {me.token}"}
    out = []
    async with aiohttp.ClientSession() as http:

        async def get(params: dict[str, str]) -> tuple[int, dict[str, Any]]:
            t0 = time.monotonic_ns()
            async with http.get(f"{url}/search?{urlencode(params)}", headers=headers) as response:
                body = await response.json()
                if response.status != 200:
                    raise RuntimeError(f"search {params}: {response.status} {body}")
            return (time.monotonic_ns() - t0) // 1000, body

        for name, params in queries:
            for _ in range(10):  # warm-up: connections, statement caches, pages
                _, body = await get(params)
            hits = len(body["hits"])
            timings = [(await get(params))[0] for _ in range(samples)]
            out.append({"query": name, "hits": hits, "n": samples, **percentiles(timings)})
            if name.startswith("common") and body["nextBefore"]:
                page2 = {**params, "before": body["nextBefore"]}
                timings = [(await get(page2))[0] for _ in range(samples)]
                out.append({"query": name + ", page 2", "hits": hits, "n": samples,
                            **percentiles(timings)})  # fmt: skip
    return out


def _statement(backend: str, me: Member, params: dict[str, str]) -> tuple[str, list[Any]]:
    """The server's search statement (repositories/search.py) for a driver of our own."""
    from inner_circle.core.search_terms import parse_query
    from inner_circle.server.repositories import search as repo

    query = parse_query(params["q"])
    assert query is not None
    if backend == "postgres":
        sql = repo._POSTGRES.replace(":user_id", "$1::uuid").replace(":match", "$2")
        args: list[Any] = [me.user_id, repo._postgres_match(query)]
        if "chatId" in params:
            sql += ' AND s."chatId" = $3::uuid'
            args.append(params["chatId"])
        return sql + " ORDER BY s.id DESC LIMIT 21", args
    sql = repo._SQLITE.replace(":user_id", "?").replace(":match", "?")
    args = [uuid.UUID(me.user_id).hex, repo._sqlite_match(query)]
    if "chatId" in params:
        sql += ' AND s."chatId" = ?'
        args.append(uuid.UUID(params["chatId"]).hex)
    return sql + " ORDER BY f.rowid DESC LIMIT 21", args


async def _database_times(
    servers: ServerGroup,
    me: Member,
    queries: list[tuple[str, dict[str, str]]],
    samples: int,
    explain: bool,
) -> dict[str, dict[str, Any]]:
    """p50/p99 of the search statement alone, on a connection of our own (no HTTP, no
    server process): what the database's index costs. ``explain``: PostgreSQL's plans."""
    out: dict[str, dict[str, Any]] = {}
    if servers.backend == "postgres":
        import asyncpg

        dsn = servers.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("SET plan_cache_mode = force_custom_plan")  # as the server
            for name, params in queries:
                sql, args = _statement("postgres", me, params)
                if explain:
                    rows = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
                    print(f"--- {name}\n" + "\n".join(r[0] for r in rows), file=sys.stderr)
                timings = []
                for _ in range(samples):
                    t0 = time.monotonic_ns()
                    rows = await connection.fetch(sql, *args)
                    timings.append((time.monotonic_ns() - t0) // 1000)
                out[name] = {**percentiles(timings), "rows": len(rows)}
        finally:
            await connection.close()
        return out
    import sqlite3

    db = sqlite3.connect(f"file:{servers.dir / 'data' / 'inner-circle.db'}?mode=ro", uri=True)
    try:
        for name, params in queries:
            sql, args = _statement("sqlite", me, params)
            timings = []
            for _ in range(samples):
                t0 = time.monotonic_ns()
                rows = db.execute(sql, args).fetchall()
                timings.append((time.monotonic_ns() - t0) // 1000)
            out[name] = {**percentiles(timings), "rows": len(rows)}
    finally:
        db.close()
    return out


def search(
    backend: str, messages: int, samples: int, note: str = "", nice: int = 0, explain: bool = False
) -> None:
    servers = ServerGroup(backend, label="search", nice=nice)
    if nice:
        renice([os.getpid()], nice)
    with servers:
        population = asyncio.run(populate(servers, 20, 4))
        chats = [(_family_chat(servers, population.members[0]), list(range(20)))]
        chats += population.chats
        vocab = _vocabulary(random.Random(11))
        t0 = time.monotonic()
        batches = _rows(_chat_plan(chats, messages), population.members, vocab, 7)
        if backend == "postgres":
            asyncio.run(_fill_postgres(servers, batches))
        else:
            _fill_sqlite(servers, batches)
        seed_s = round(time.monotonic() - t0, 1)
        servers.renice_database(nice)
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())  # as uptime shows it
        me = population.members[0]
        queries = _queries(vocab, chats[1][0])
        results = asyncio.run(_measure(servers.urls[0], me, queries, samples))
        alone = asyncio.run(_database_times(servers, me, queries, samples, explain))
        for stats in results:
            database = alone.get(stats["query"], {})
            # The statement alone must find what the server found (21: one more than a page).
            assert database.get("rows", stats["hits"]) >= stats["hits"], (stats, database)
            stats = {**stats, "db p50": database.get("p50"), "db p99": database.get("p99")}
            record = {
                "shape": "search", "backend": backend, "messages": messages, "seed s": seed_s,
                **stats, "load": load, "commit": git_commit(), "date": today(), "note": note,
            }  # fmt: skip
            emit(record)
            append_row("search", COLUMNS, record)


def _family_chat(servers: ServerGroup, me: Member) -> str:
    async def find() -> str:
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {me.token}"}
            async with http.get(f"{servers.urls[0]}/chats", headers=headers) as response:
                found = await response.json()
        return str(next(chat["id"] for chat in found if chat["type"] == "family"))

    return asyncio.run(find())
