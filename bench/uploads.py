"""``python -m bench.uploads``: upload throughput and server memory while members upload at once.

    python -m bench.uploads                          10 members × 50 MB, 4 MB chunks, SQLite
    python -m bench.uploads --members 4 --size-mb 20 --backend postgres

Each member uploads one file of random bytes with tus (chunked PATCHes, as tus-js-client
does), all at the same time, from one generator process, then waits until the server has
processed it. While they run, the server's resident memory (its whole process tree) is
sampled every 100 ms. The server streams every chunk to disk, so its memory must stay flat:
the peak above the idle reading must not grow with the file size. Prints one JSON line.
All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

import aiohttp

from bench.population import populate
from bench.server import ServerGroup

TUS = {"Tus-Resumable": "1.0.0"}


async def _upload(
    http: aiohttp.ClientSession, url: str, token: str, size: int, chunk: int, seed: bytes
) -> float:
    """One member's upload; seconds until the server says ``ready``."""
    auth = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    headers = {**auth, **TUS, "Upload-Length": str(size)}
    async with http.post(f"{url}/uploads", headers=headers) as response:
        if response.status != 201:
            raise RuntimeError(f"create: {response.status} {await response.text()}")
        upload_id = (await response.json())["id"]
    offset = 0
    block = seed * (chunk // len(seed) + 1)
    while offset < size:
        body = block[: min(chunk, size - offset)]
        patch = {
            **auth, **TUS, "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        }  # fmt: skip
        async with http.patch(f"{url}/uploads/{upload_id}", headers=patch, data=body) as response:
            if response.status != 204:
                raise RuntimeError(f"patch: {response.status} {await response.text()}")
            offset = int(response.headers["Upload-Offset"])
    for _ in range(6000):  # bounded: 10 minutes at most
        async with http.get(f"{url}/uploads/{upload_id}", headers=auth) as response:
            status = (await response.json())["status"]
        if status in ("ready", "failed"):
            if status == "failed":
                raise RuntimeError("processing failed")
            return time.perf_counter() - started
        await asyncio.sleep(0.1)  # the API is polled: processing has no event
    raise RuntimeError("processing did not end within 10 minutes")


async def _sample(servers: ServerGroup, peaks: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peaks.append(servers.stats().rss_bytes)
        try:
            await asyncio.wait_for(stop.wait(), 0.1)
        except TimeoutError:
            pass


async def _run(servers: ServerGroup, members: int, size: int, chunk: int) -> dict[str, object]:
    population = await populate(servers, members, members)
    url = servers.urls[0]
    idle = servers.stats().rss_bytes
    samples: list[int] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample(servers, samples, stop))
    started = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=900)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        # Each member's own bytes (the server de-duplicates equal contents).
        durations = await asyncio.gather(
            *(
                _upload(http, url, m.token, size, chunk, os.urandom(64 * 1024))
                for m in population.members
            )
        )
    elapsed = time.perf_counter() - started
    stop.set()
    await sampler
    peak = max(samples or [idle])
    total = members * size
    return {
        "shape": "uploads",
        "members": members,
        "file_mb": size / 2**20,
        "chunk_mb": chunk / 2**20,
        "seconds": round(elapsed, 2),
        "throughput_mb_s": round(total / 2**20 / elapsed, 1),
        "slowest_upload_s": round(max(durations), 2),
        "server_rss_idle_mb": round(idle / 2**20, 1),
        "server_rss_peak_mb": round(peak / 2**20, 1),
        "server_rss_growth_mb": round((peak - idle) / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.uploads", description=__doc__)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--size-mb", type=float, default=50.0)
    parser.add_argument("--chunk-mb", type=float, default=4.0)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    size = int(args.size_mb * 2**20)
    env = {
        "INNER_CIRCLE_MEDIA_MAX_FILE_BYTES": str(max(size, 1)),
        "INNER_CIRCLE_MEDIA_QUOTA_BYTES": "0",
    }
    servers = ServerGroup(args.backend, extra_env=env, label="uploads")
    try:
        servers.start()
        result = asyncio.run(_run(servers, args.members, size, int(args.chunk_mb * 2**20)))
    finally:
        servers.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
