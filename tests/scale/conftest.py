"""Two real server processes on one PostgreSQL database and one Redis (the harness's)."""

from __future__ import annotations

import pytest

from harness import ServerGroup
from tests.conftest import StartProcess

PRESENCE_TTL = 3.0  # seconds; a killed process's members go offline after about this
Cluster = ServerGroup  # the name these tests used for it


@pytest.fixture
def cluster(start_process: StartProcess) -> ServerGroup:
    """Two ``inner-circle serve`` processes (started one after the other: each creates the
    family chat at startup when there is none), one database, one Redis prefix."""
    return start_process(
        database="postgres",
        redis=True,
        processes=2,
        env={
            "INNER_CIRCLE_PRESENCE_TTL_SECONDS": str(PRESENCE_TTL),
            "INNER_CIRCLE_LOG_LEVEL": "WARNING",
        },
    )
