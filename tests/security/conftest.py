"""What the hardening tests add to the root fixtures (``start_server``, ``redis_url``,
``redis_prefix``): a clock the test moves."""

from __future__ import annotations

from datetime import datetime, timedelta

from inner_circle.core.clock import utc_now
from tests.support import StartServer

__all__ = ["ManualClock", "StartServer"]


class ManualClock:
    """A server clock the test moves: lock-out waits pass without sleeping."""

    def __init__(self) -> None:
        self._now = utc_now()

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
