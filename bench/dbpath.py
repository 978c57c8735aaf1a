"""Micro-benchmark of the send path's database work, without sockets:
``python -m bench.dbpath --backend sqlite --batch 1 --messages 2000``.

Runs ``services.messages.send_messages`` in units of work of ``--batch`` messages
(the group commit's batch size) against a fresh database and prints one JSON line
with the wall time and CPU time per message. Used to compare the SQLite driver
paths (``--driver stock`` is SQLAlchemy's own aiosqlite adapter).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
import uuid

from bench.population import populate
from bench.server import ServerGroup


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _run(servers: ServerGroup, batch: int, total: int, driver: str) -> dict[str, float]:
    from sqlalchemy.ext.asyncio import create_async_engine

    from inner_circle.core.actor import Actor
    from inner_circle.protocol.rest import SendMessageIn
    from inner_circle.server import bootstrap
    from inner_circle.server.db import engine as engine_module
    from inner_circle.server.services import messages
    from inner_circle.server.settings import load_settings

    population = await populate(servers, 10, 10, family_chat=True)
    chat_id, _ = population.chats[0]
    settings = load_settings(database_url=servers.database_url, data_dir=servers.dir / "data")
    if driver == "stock":
        original = engine_module.create_async_engine

        def stock(url: str, **kw: object) -> object:
            kw.pop("module", None)
            return original(url, **kw)

        engine_module.create_async_engine = stock  # type: ignore[assignment]
        bootstrap.create_engine = engine_module.create_engine  # type: ignore[attr-defined]
    uows, engine = bootstrap.operator_uows(settings)
    actors = [
        Actor(id=uuid.UUID(m.user_id), username=m.username, display_name=m.username, is_admin=False)
        for m in population.members
    ]
    t0, c0 = time.perf_counter(), _cpu()
    for start in range(0, total, batch):
        requests = [
            messages.SendRequest(
                actors[k % len(actors)],
                SendMessageIn(
                    chat_id=uuid.UUID(chat_id), content=f"m{k}", client_message_id=f"c{k}"
                ),
            )
            for k in range(start, min(total, start + batch))
        ]
        async with uows.write() as uow:
            await messages.send_messages(uow, requests)
            await uow.commit()
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    await engine.dispose()  # type: ignore[attr-defined]
    _ = create_async_engine
    return {
        "wall_ms_per_message": round(1000 * wall / total, 3),
        "cpu_ms_per_message": round(1000 * cpu / total, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--driver", choices=["onehop", "stock"], default="onehop")
    args = parser.parse_args()
    with ServerGroup(args.backend, label="dbpath") as servers:
        result = asyncio.run(_run(servers, args.batch, args.messages, args.driver))
    print(json.dumps({"shape": "dbpath", **vars(args), **result}))


if __name__ == "__main__":
    main()
