"""The media parts a use case needs: the store, staging files, signed URLs, workers."""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from inner_circle.server.media.signing import UrlSigner
from inner_circle.server.media.sniff import disposition, served_as
from inner_circle.server.ports import MediaStore

__all__ = ["MediaRuntime", "blob_key"]

log = logging.getLogger(__name__)
T = TypeVar("T")


def blob_key(sha256: str, variant: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256}/{variant}"


class MediaRuntime:
    """Built once in ``app.py``; reached by use cases as ``uow.ctx.media``."""

    def __init__(
        self,
        store: MediaStore,
        signer: UrlSigner,
        staging: Path,
        *,
        max_file_bytes: int,
        quota_bytes: int,
        max_pixels: int,
        workers: int,
        orphan_seconds: float,
    ) -> None:
        self.store = store
        self.signer = signer
        self.staging = staging
        self.max_file_bytes = max_file_bytes
        self.quota_bytes = quota_bytes
        self.max_pixels = max_pixels
        self.orphan_seconds = orphan_seconds
        self._workers = asyncio.Semaphore(workers)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._receiving: set[uuid.UUID] = set()

    def staged(self, upload_id: uuid.UUID) -> Path:
        return self.staging / f"{upload_id}.part"

    def work_dir(self, upload_id: uuid.UUID) -> Path:
        return self.staging / f"{upload_id}.work"

    def discard(self, upload_id: uuid.UUID) -> None:
        self.staged(upload_id).unlink(missing_ok=True)
        shutil.rmtree(self.work_dir(upload_id), ignore_errors=True)

    def claim(self, upload_id: uuid.UUID) -> bool:
        """One PATCH at a time per upload (in this process): False when one runs."""
        if upload_id in self._receiving:
            return False
        self._receiving.add(upload_id)
        return True

    def release(self, upload_id: uuid.UUID) -> None:
        self._receiving.discard(upload_id)

    async def blocking(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run CPU or disk work in a thread, a bounded number at once (the event loop and
        the other members' requests go on)."""
        async with self._workers:
            return await asyncio.to_thread(work, *args, **kwargs)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait for background processing (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def url(
        self, attachment_id: uuid.UUID, sha256: str, variant: str, mime: str, name: str, now: float
    ) -> str:
        content_type, inline = served_as(mime, variant)
        presigned = await self.store.presign(
            blob_key(sha256, variant),
            expires_in=int(self.signer.expiry(now) - now),
            content_type=content_type,
            disposition=None if inline else disposition(name, inline=False),
        )
        return presigned or self.signer.path(attachment_id, variant, now)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.store.close()
