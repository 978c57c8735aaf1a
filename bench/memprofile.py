"""Where an idle connection's memory goes: ``python -m bench.memprofile [CONNECTIONS]``.

Runs the server in this process under ``tracemalloc``, opens CONNECTIONS idle lean
clients (100 members, several connections each), and prints the Python heap growth
per connection by source file. Loopback only; bounded by the connection count.
By default the server runs ``inner-circle serve``'s protocols (Engine.IO's WebSocket served
directly, socket/websocket.py); ``WS=auto`` (or any uvicorn ``--ws`` choice) measures
python-engineio's own path over that uvicorn WebSocket implementation instead.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import sys
import threading
import time
import tracemalloc

import uvicorn

from bench.load import Generator, GeneratorSpec
from bench.population import populate
from bench.server import ServerGroup


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    # The group provides the database and the members; the measured server runs here.
    with ServerGroup("sqlite", label="memprofile") as group:
        population = asyncio.run(populate(group, 50, 50))
        os.environ.update({k: v for k, v in group.env.items() if k.startswith("INNER_CIRCLE_")})
        from inner_circle.server.app import create_app
        from inner_circle.server.serving import protocols
        from inner_circle.server.settings import load_settings

        app = create_app(load_settings())
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            app,
            log_level="warning",
            ws_per_message_deflate=False,
            lifespan="on",
            **protocols(),
            **({"ws": os.environ["WS"]} if "WS" in os.environ else {}),
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)  # polling a condition, bounded by the deadline
        tracemalloc.start(12)
        gc.collect()
        before = tracemalloc.take_snapshot()
        tokens = [(population.members[k % 50].token, 0) for k in range(count)]
        generator = Generator([GeneratorSpec([url], tokens, [], connect_concurrency=10)])
        try:
            connected, _ = generator.wait_ready(600)
            time.sleep(3)  # let connection handling settle
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            generator.close()
            server.should_exit = True
            thread.join(10)
    stats = after.compare_to(before, "filename")
    total = sum(s.size_diff for s in stats)
    print(f"{connected} connections: {total / connected / 1024:.1f} KB of Python heap each")
    for stat in stats[:20]:
        name = stat.traceback[0].filename.split("site-packages/")[-1]
        print(
            f"{stat.size_diff / connected / 1024:6.2f} KB  {stat.count_diff / connected:6.1f} blocks  {name}"
        )


if __name__ == "__main__":
    main()
