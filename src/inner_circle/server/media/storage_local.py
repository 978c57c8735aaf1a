"""The default media store: files under ``<data>/media``, written atomically."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

# The data folder's rule: private folders and files, whatever the umask.
from inner_circle.server.db.files import PRIVATE_DIR, PRIVATE_FILE

__all__ = ["LocalMediaStore"]

CHUNK = 256 * 1024


def _private_dirs(root: Path, folder: Path) -> None:
    """Create ``folder`` and its parents up to ``root``, each private (``mkdir``'s
    ``parents`` would give the parents the default mode)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder == root:
            break
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=PRIVATE_DIR, exist_ok=True)


class LocalMediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"bad media key {key!r}")
        return path

    async def put(self, key: str, source: Path, content_type: str) -> None:
        await asyncio.to_thread(self._put, key, source)

    def _put(self, key: str, source: Path) -> None:
        target = self._path(key)
        _private_dirs(self.root.resolve(), target.parent)
        partial = target.with_name(target.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as out, source.open("rb") as data:
            shutil.copyfileobj(data, out, CHUNK)
        os.replace(partial, target)

    async def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        with self._path(key).open("rb") as handle:
            handle.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    async def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            try:
                path.parent.rmdir()  # the blob's folder, once empty
            except OSError:
                pass

    async def presign(
        self, key: str, *, expires_in: int, content_type: str, disposition: str | None
    ) -> str | None:
        return None

    async def close(self) -> None:
        return None
