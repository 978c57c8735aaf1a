"""The benchmark shapes: message fan-out, idle memory, history, login burst, scale-out."""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from bench.load import Generator, GeneratorSpec
from bench.population import Population, login, populate
from bench.report import append_row, emit, git_commit, percentiles, today
from bench.server import ServerGroup, machine_busy, postgres_pids, proc_tree_stats, renice

__all__ = ["MessageShape", "history", "idle", "run_messages"]

P99_LIMIT_MS = 100.0
MESSAGE_COLUMNS = [
    "date",
    "commit",
    "backend",
    "servers",
    "clients",
    "rate",
    "sent/s",
    "deliveries/s",
    "p50",
    "p90",
    "p99",
    "p99.9",
    "max",
    "ack p99",
    "lost",
    "dup",
    "failed",
    "server CPU %",
    "server RSS MB",
    "DB CPU %",
    "gen CPU %",
    "machine busy %",
    "note",
]


@dataclass
class MessageShape:
    name: str
    backend: str
    members: int
    chat_size: int
    family_chat: bool
    duration: float
    rates: list[float]
    find_max: bool = False
    gen_procs: int = 1
    servers: int = 1
    workers: int = 1
    redis: bool = False
    note: str = ""
    logins_per_second: float = 0.0
    extra_env: dict[str, str] = field(default_factory=dict)
    nice: int = 0  # scheduling priority of server and generator processes (below 0: root)
    profile: str | None = None  # py-spy collapsed stacks of the first step's server processes


def _pg_cpu() -> dict[int, float]:
    out = {}
    for pid in postgres_pids():
        out[pid] = _one_cpu(pid)
    return out


def _one_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Sampler(threading.Thread):
    """Reads server, database and machine counters at the start and end of a step."""

    def __init__(self, server_pids: list[int], start_ns: int, end_ns: int) -> None:
        super().__init__(daemon=True)
        self.server_pids = server_pids
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.result: dict[str, float] = {}

    def _sample(self) -> tuple[Any, float, tuple[float, float], float]:
        return (
            proc_tree_stats(self.server_pids),
            _pg_cpu(),
            machine_busy(),
            time.monotonic(),
        )

    def run(self) -> None:
        time.sleep(max(0.0, (self.start_ns - time.monotonic_ns()) / 1e9))
        s0, db0, m0, t0 = self._sample()
        time.sleep(max(0.0, (self.end_ns - time.monotonic_ns()) / 1e9))
        s1, db1, m1, t1 = self._sample()
        wall = t1 - t0
        self.result = {
            "server_cpu_pct": round(100 * (s1.cpu_seconds - s0.cpu_seconds) / wall, 1),
            "server_rss_mb": round(s1.rss_bytes / 2**20, 1),
            # Backends that lived through the step, plus the whole of those born during it.
            "db_cpu_pct": round(
                100 * sum(v - db0.get(pid, 0.0) for pid, v in db1.items()) / wall, 1
            ),
            "machine_busy_pct": round(100 * (m1[0] - m0[0]) / max(1.0, m1[1] - m0[1]), 1),
        }


def _specs(servers: ServerGroup, population: Population, procs: int) -> list[GeneratorSpec]:
    """Whole chats per generator process; clients alternate between server processes."""
    n_urls = len(servers.urls)
    specs = []
    for p in range(procs):
        chats = population.chats[p::procs]
        tokens: list[tuple[str, int]] = []
        local_chats: list[tuple[str, list[int]]] = []
        for chat_id, members in chats:
            local = []
            for member in members:
                local.append(len(tokens))
                tokens.append((population.members[member].token, member % n_urls))
            local_chats.append((chat_id, local))
        specs.append(GeneratorSpec(servers.urls, tokens, local_chats))
    return [spec for spec in specs if spec.chats]


def _merge(parts: list[dict[str, Any]], duration: float, start_ns: int) -> dict[str, Any]:
    lat: list[int] = []
    ack: list[int] = []
    total = {
        key: 0
        for key in (
            "sent",
            "acked",
            "ack_failed",
            "unacked",
            "expected",
            "delivered",
            "dups",
            "late",
        )
    }
    errors: dict[str, int] = {}
    last = start_ns
    cpu = 0.0
    for part in parts:
        lat += part["lat_us"]
        ack += part["ack_us"]
        for key in total:
            total[key] += part[key]
        for code, count in part["errors"].items():
            errors[code] = errors.get(code, 0) + count
        last = max(last, part["last_recv_ns"])
        cpu += part["cpu_send"]
    span = max(duration, (last - start_ns) / 1e9)
    return {
        **total,
        "errors": errors,
        "latency_ms": percentiles(lat),
        "ack_ms": percentiles(ack),
        "lost": total["expected"] - total["delivered"],
        "sent_per_s": round(total["acked"] / span, 1),
        "deliveries_per_s": round(total["delivered"] / span, 1),
        "gen_cpu_pct": round(100 * cpu / duration, 1),
    }


def _passes(result: dict[str, Any], rate: float) -> bool:
    p99 = result["latency_ms"]["p99"]
    return (
        p99 is not None
        and p99 <= P99_LIMIT_MS
        and result["lost"] == 0
        and result["dups"] == 0
        and result["ack_failed"] == 0
        and result["unacked"] == 0
        and result["acked"] >= 0.99 * rate * result["duration"]
    )


async def _login_burst(
    url: str, usernames: list[str], rate: float, duration: float, start_ns: int
) -> dict[str, Any]:
    """Open-loop logins at ``rate``/s, measured from their scheduled time."""
    latencies: list[int] = []
    failures = 0
    total = int(rate * duration)
    async with aiohttp.ClientSession() as http:
        tasks = []

        async def one(k: int, scheduled: int) -> None:
            nonlocal failures
            try:
                await login(http, url, usernames[k % len(usernames)])
                latencies.append((time.monotonic_ns() - scheduled) // 1000)
            except Exception:
                failures += 1

        for k in range(total):
            scheduled = start_ns + int(k * 1e9 / rate)
            delay = (scheduled - time.monotonic_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(k, scheduled)))
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
    return {"logins": len(latencies), "failures": failures, "login_ms": percentiles(latencies)}


def _burst_in_thread(holder: dict[str, Any], args: tuple[Any, ...]) -> None:
    holder.update(asyncio.run(_login_burst(*args)))


def run_messages(shape: MessageShape) -> list[dict[str, Any]]:
    """Run ``shape``: each rate (or a find-max search) is one step; one JSON line per step."""
    records = []
    servers = ServerGroup(
        shape.backend,
        processes=shape.servers,
        workers=shape.workers,
        redis=shape.redis,
        extra_env=shape.extra_env,
        label=shape.name,
        nice=shape.nice,
    )
    with servers:
        t_setup = time.monotonic()
        population = asyncio.run(
            populate(servers, shape.members, shape.chat_size, family_chat=shape.family_chat)
        )
        login_users: list[str] = []
        if shape.logins_per_second:
            extra = asyncio.run(
                populate(servers, 20, 20, prefix="login", family_chat=False, seed=True)
            )
            login_users = [m.username for m in extra.members]
        specs = _specs(servers, population, shape.gen_procs)
        generator = Generator(specs)
        try:
            connected, errors = generator.wait_ready()
            if shape.nice:
                renice(generator.pids() + servers.stats().pids, shape.nice)
            setup_s = round(time.monotonic() - t_setup, 1)
            if connected != shape.members:
                raise RuntimeError(f"only {connected}/{shape.members} clients connected: {errors}")
            weights = [len(spec.chats) / len(population.chats) for spec in specs]
            # A short warm-up: first queries, caches, JIT-less Python's first-call costs.
            generator.step(
                0, [max(1.0, 20 * w) for w in weights], 2.0, time.monotonic_ns() + 200_000_000, 10
            )
            if shape.nice:
                servers.renice_database(shape.nice)
            step_id = 1
            rates = list(shape.rates)
            passed: list[float] = []
            failed: list[float] = []
            while rates and step_id <= 12:
                rate = rates.pop(0)
                if shape.nice:
                    # Threads and database backends born since the last step (pool growth)
                    # would otherwise run at the default priority.
                    renice(servers.stats().pids, shape.nice)
                    servers.renice_database(shape.nice)
                start_ns = time.monotonic_ns() + 500_000_000
                sampler = _Sampler(servers.pids, start_ns, start_ns + int(shape.duration * 1e9))
                sampler.start()
                spies = (
                    _profile(servers.pids, shape.profile, step_id, shape.duration)
                    if shape.profile
                    else []
                )
                burst: dict[str, Any] = {}
                if shape.logins_per_second:
                    holder: dict[str, Any] = {}
                    burst_args = (
                        servers.urls[0],
                        login_users,
                        shape.logins_per_second,
                        shape.duration,
                        start_ns,
                    )
                    thread = threading.Thread(
                        target=_burst_in_thread, args=(holder, burst_args), daemon=True
                    )
                    thread.start()
                parts = generator.step(
                    step_id, [rate * w for w in weights], shape.duration, start_ns, 15.0
                )
                sampler.join(shape.duration + 30)
                for spy in spies:
                    spy.wait(60)
                if shape.logins_per_second:
                    thread.join(90)
                    burst = holder
                result = _merge(parts, shape.duration, start_ns)
                result["duration"] = shape.duration
                ok = _passes(result, rate)
                record = {
                    "shape": shape.name,
                    "backend": shape.backend,
                    "servers": shape.servers * shape.workers,
                    "redis": servers.redis is not None,
                    "clients": shape.members,
                    "chats": len(population.chats),
                    "rate": rate,
                    "step": step_id,
                    "find_max": shape.find_max,
                    "pass": ok,
                    **result,
                    **sampler.result,
                    **({"login_burst": burst} if burst else {}),
                    "setup_s": setup_s,
                    "gen_procs": len(specs),
                    "cpus": os.cpu_count(),
                    "commit": git_commit(),
                    "date": today(),
                    "note": shape.note,
                    "nice": shape.nice,
                }
                emit(record)
                records.append(record)
                _append(shape, record)
                step_id += 1
                if shape.find_max:
                    (passed if ok else failed).append(rate)
                    rates = _next_rate(passed, failed)
        finally:
            generator.close()
    if shape.find_max:
        best = max((r for r in records if r["pass"]), key=lambda r: r["rate"], default=None)
        summary = {
            "shape": shape.name,
            "backend": shape.backend,
            "find_max": True,
            "max_rate": best["rate"] if best else None,
            "max_deliveries_per_s": best["deliveries_per_s"] if best else None,
            "p99_at_max": best["latency_ms"]["p99"] if best else None,
            "steps": len(records),
        }
        emit(summary)
    return records


def _profile(pids: list[int], prefix: str, step_id: int, duration: float) -> list[Any]:
    import subprocess
    import sys
    from pathlib import Path

    spy = str(Path(sys.executable).parent / "py-spy")
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(duration)),
                "--rate",
                "250",
                "--format",
                "raw",
                "--nonblocking",
                "--gil",
                "--output",
                f"{prefix}-step{step_id}-{pid}.txt",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]


def _next_rate(passed: list[float], failed: list[float]) -> list[float]:
    if not failed:
        return [round(max(passed) * 1.5)]
    low = max(passed, default=0.0)
    high = min(failed)
    if low == 0.0:
        return [round(high / 2)] if high > 10 else []
    if high / low <= 1.12:
        return []
    return [round(math.sqrt(low * high))]


def _append(shape: MessageShape, record: dict[str, Any]) -> None:
    lat = record["latency_ms"]
    note = shape.note
    if shape.find_max:
        note = (note + " " if note else "") + (
            "find-max: pass" if record["pass"] else "find-max: FAIL"
        )
    if "login_burst" in record:
        burst = record["login_burst"]
        note += f" logins {burst.get('logins')} (p99 {burst.get('login_ms', {}).get('p99')} ms)"
    row = {
        "date": record["date"],
        "commit": record["commit"],
        "backend": record["backend"] + (" +redis" if record["redis"] else ""),
        "servers": record["servers"],
        "clients": record["clients"],
        "rate": record["rate"],
        "sent/s": record["sent_per_s"],
        "deliveries/s": record["deliveries_per_s"],
        "p50": lat["p50"],
        "p90": lat["p90"],
        "p99": lat["p99"],
        "p99.9": lat["p999"],
        "max": lat["max"],
        "ack p99": record["ack_ms"]["p99"],
        "lost": record["lost"],
        "dup": record["dups"],
        "failed": record["ack_failed"] + record["unacked"],
        "server CPU %": record.get("server_cpu_pct"),
        "server RSS MB": record.get("server_rss_mb"),
        "DB CPU %": record.get("db_cpu_pct"),
        "gen CPU %": record["gen_cpu_pct"],
        "machine busy %": record.get("machine_busy_pct"),
        "note": note.strip(),
    }
    append_row(shape.name, MESSAGE_COLUMNS, row)


# --- idle memory ---------------------------------------------------------------------------------

IDLE_COLUMNS = [
    "date",
    "commit",
    "backend",
    "connections",
    "users",
    "RSS before MB",
    "RSS after MB",
    "KB per connection",
    "gen procs",
    "note",
]


def idle(
    backend: str,
    clients: int,
    users: int,
    gen_procs: int,
    settle: float,
    note: str = "",
    nice: int = 0,
) -> dict[str, Any]:
    """Server memory per idle connection: ``clients`` sockets spread over ``users`` members."""
    servers = ServerGroup(backend, label="idle")
    with servers:
        population = asyncio.run(populate(servers, users, users, family_chat=False))
        before = servers.stats().rss_bytes
        # Connection k belongs to member k % users; all first devices connect before the
        # second ones (one process each in turn), so presence fan-out stays O(users²).
        specs = []
        per_proc = math.ceil(clients / gen_procs)
        order = list(range(clients))
        for p in range(gen_procs):
            mine = order[p * per_proc : (p + 1) * per_proc]
            tokens = [(population.members[k % users].token, 0) for k in mine]
            specs.append(GeneratorSpec(servers.urls, tokens, [], connect_concurrency=10))
        generator = Generator(specs)
        if nice:
            renice(generator.pids() + servers.stats().pids, nice)
        try:
            connected, errors = generator.wait_ready(timeout=900)
            time.sleep(settle)  # let the server's connection handling settle before reading RSS
            alive = generator.alive()
            after = servers.stats().rss_bytes
        finally:
            generator.close()
    per_conn = (after - before) / max(1, alive) / 1024
    record = {
        "shape": "idle",
        "backend": backend,
        "connections": clients,
        "connected": connected,
        "alive": alive,
        "users": users,
        "errors": errors,
        "rss_before_mb": round(before / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1),
        "kb_per_connection": round(per_conn, 1),
        "gen_procs": gen_procs,
        "commit": git_commit(),
        "date": today(),
        "note": note,
    }
    emit(record)
    append_row(
        "idle",
        IDLE_COLUMNS,
        {
            "date": record["date"],
            "commit": record["commit"],
            "backend": backend,
            "connections": alive,
            "users": users,
            "RSS before MB": record["rss_before_mb"],
            "RSS after MB": record["rss_after_mb"],
            "KB per connection": record["kb_per_connection"],
            "gen procs": gen_procs,
            "note": note,
        },
    )
    return record


# --- history --------------------------------------------------------------------------------------

HISTORY_COLUMNS = [
    "date",
    "commit",
    "backend",
    "messages",
    "seed s",
    "query",
    "n",
    "p50",
    "p99",
    "max",
    "note",
]


async def _seed(servers: ServerGroup, chat_id: str, sender_id: str, count: int) -> None:
    """Bulk-insert ``count`` messages into one chat in plain SQL (not through the API)."""
    if servers.backend == "postgres":
        import asyncpg

        dsn = servers.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(
                """
                INSERT INTO messages (id, content, "senderId", "chatId", "createdAt", "updatedAt", seq)
                SELECT gen_random_uuid(), 'seeded message number ' || n, $1::uuid, $2::uuid,
                       now() - make_interval(secs => $3 - n), now() - make_interval(secs => $3 - n), n
                FROM generate_series(1, $3::int) AS n
                """,
                sender_id,
                chat_id,
                count,
            )
            await connection.execute(
                'UPDATE chats SET "lastSeq" = $2, "lastMessageAt" = now() WHERE id = $1::uuid',
                chat_id,
                count,
            )
            await connection.execute("ANALYZE messages")
        finally:
            await connection.close()
        return
    import sqlite3

    path = servers.dir / "data" / "inner-circle.db"
    db = sqlite3.connect(path, timeout=60)
    try:
        chat_hex = chat_id.replace("-", "")
        sender_hex = sender_id.replace("-", "")
        db.execute("PRAGMA synchronous=OFF")
        db.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO messages (id, content, senderId, chatId, createdAt, updatedAt, seq)
            SELECT lower(hex(randomblob(16))), 'seeded message number ' || i, ?, ?,
                   strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || (? - i) || ' seconds'),
                   strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || (? - i) || ' seconds'), i
            FROM n
            """,
            (count, sender_hex, chat_hex, count, count),
        )
        db.execute("UPDATE chats SET lastSeq = ? WHERE id = ?", (count, chat_hex))
        db.commit()
        db.execute("ANALYZE")
    finally:
        db.close()


async def _timed_get(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> tuple[int, list[Any], bool]:
    """(µs until the whole answer has arrived, its page, X-Has-More). The client's JSON
    decoding is not timed: it is the client's work, not the server's answer."""
    t0 = time.monotonic_ns()
    async with http.get(url, headers=headers) as response:
        raw = await response.read()
        elapsed = (time.monotonic_ns() - t0) // 1000
        if response.status != 200:
            raise RuntimeError(f"GET {url}: {response.status} {raw[:200]!r}")
        more = response.headers.get("X-Has-More") == "true"
    return elapsed, orjson.loads(raw), more


def history(
    backend: str, messages: int, samples: int, catchup: int, note: str = "", nice: int = 0
) -> list[dict[str, Any]]:
    servers = ServerGroup(backend, label="history", nice=nice)
    if nice:
        renice([os.getpid()], nice)
    rows = []
    with servers:
        population = asyncio.run(populate(servers, 2, 2, family_chat=True))
        chat_id, _ = population.chats[0]
        me = population.members[0]
        t0 = time.monotonic()
        asyncio.run(_seed(servers, chat_id, me.user_id, messages))
        seed_s = round(time.monotonic() - t0, 1)

        async def measure() -> list[dict[str, Any]]:
            import random

            headers = {"Authorization": f"Bearer {me.token}"}
            base = f"{servers.urls[0]}/messages/{chat_id}"
            out = []
            async with aiohttp.ClientSession() as http:
                for _ in range(20):  # warm-up: connections, statement caches
                    await _timed_get(http, f"{base}?limit=50", headers)
                latest = [
                    (await _timed_get(http, f"{base}?limit=50", headers))[0] for _ in range(samples)
                ]
                out.append(("latest page of 50", latest))
                rng = random.Random(7)
                back = [
                    (
                        await _timed_get(
                            http, f"{base}?limit=50&before={rng.randint(51, messages)}", headers
                        )
                    )[0]
                    for _ in range(samples)
                ]
                out.append(("page of 50 before a random seq", back))
                runs = []
                for _ in range(5):
                    after = messages - catchup
                    got = 0
                    t = time.monotonic_ns()
                    for _page in range(catchup // 200 + 2):
                        _, body, more = await _timed_get(
                            http, f"{base}?after={after}&limit=200", headers
                        )
                        got += len(body)
                        if body:
                            after = body[-1]["seq"]
                        if not more:
                            break
                    runs.append((time.monotonic_ns() - t) // 1000)
                    assert got == catchup, f"catch-up fetched {got} of {catchup}"
                out.append((f"catch-up of {catchup} (pages of 200)", runs))
            return [{"query": q, "n": len(v), **percentiles(v)} for q, v in out]

        servers.renice_database(nice)
        for stats in asyncio.run(measure()):
            record = {
                "shape": "history",
                "backend": backend,
                "messages": messages,
                "seed_s": seed_s,
                **stats,
                "commit": git_commit(),
                "date": today(),
                "note": note,
            }
            emit(record)
            rows.append(record)
            append_row(
                "history",
                HISTORY_COLUMNS,
                {
                    "date": record["date"],
                    "commit": record["commit"],
                    "backend": backend,
                    "messages": messages,
                    "seed s": seed_s,
                    "query": stats["query"],
                    "n": stats["n"],
                    "p50": stats["p50"],
                    "p99": stats["p99"],
                    "max": stats["max"],
                    "note": note,
                },
            )
    return rows
