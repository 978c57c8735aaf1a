"""Fixtures of the operations tests (servers with chosen settings: the root ``start_server``)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import POSTGRES

__all__ = ["fresh_database"]


@pytest.fixture
def fresh_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as ``database_url`` (nothing in it, not even a schema)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'inner-circle.db'}"
        return
    url = POSTGRES.create_database("ic_restore")
    yield url
    POSTGRES.drop_database(url)
