"""Use cases on a real database with a recording notifier in place of Socket.IO (the process
boundary), so each test can assert the exact events and recipients."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest_asyncio

from inner_circle.core.actor import Actor
from inner_circle.protocol.rest import InviteCreateIn, RegisterIn
from inner_circle.server.bootstrap import operator_uows
from inner_circle.server.ports import OutgoingEvent
from inner_circle.server.services import accounts
from inner_circle.server.services.auth import actor_of
from inner_circle.server.services.invites import issue_invite
from tests.support import make_settings


@dataclass
class RecordingNotifier:
    events: list[OutgoingEvent] = field(default_factory=list)
    disconnected: list[uuid.UUID] = field(default_factory=list)

    async def publish(self, events: Sequence[OutgoingEvent]) -> None:
        self.events.extend(events)

    async def disconnect_user(self, user_id: uuid.UUID) -> None:
        self.disconnected.append(user_id)

    async def disconnect_session(self, session_id: uuid.UUID) -> None:
        self.disconnected.append(session_id)

    def take(self) -> list[tuple[str, frozenset[uuid.UUID] | str]]:
        """The events since the last call, in order, as (name, recipients or the only sid);
        an event for the whole family is (name, EVERYONE) or (name, EVERYONE + " but " + sid)."""
        taken = [(e.name, _recipients(e)) for e in self.events]
        self.events.clear()
        return taken

    def payloads(self, name: str) -> list[Any]:
        return [e.payload for e in self.events if e.name == name]


EVERYONE = "everyone"


def _recipients(event: OutgoingEvent) -> frozenset[uuid.UUID] | str:
    if event.only_sid is not None:
        return event.only_sid
    if event.everyone:
        assert not event.user_ids
        return f"{EVERYONE} but {event.skip_sid}" if event.skip_sid else EVERYONE
    return frozenset(event.user_ids)


class World:
    def __init__(self, uows: Any, notifier: RecordingNotifier) -> None:
        self.uows = uows
        self.notifier = notifier

    async def run(self, work: Any) -> Any:
        async with self.uows.write() as uow:
            result = await work(uow)
            await uow.commit()
        return result

    async def member(self, name: str, *, admin: bool = False) -> Actor:
        invite = await self.run(
            lambda uow: issue_invite(uow, InviteCreateIn(is_admin=admin), created_by=None)
        )
        body = RegisterIn(username=name, password="secret-pw", invitation_code=invite.code)
        user = await accounts.register_with_invite(self.uows, body)
        self.notifier.take()
        return Actor(id=user.id, username=name, display_name=name, is_admin=admin)


@pytest_asyncio.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    notifier = RecordingNotifier()
    uows, engine = operator_uows(make_settings(database_url, tmp_path), notifier)
    yield World(uows, notifier)
    await engine.dispose()  # type: ignore[attr-defined]


def bag(events: Sequence[tuple[str, Any]]) -> Counter[tuple[str, Any]]:
    """Events regardless of order and of how recipients were grouped into emits: one
    (name, recipient) pair per member (or the only sid) that receives it."""
    pairs: Counter[tuple[str, Any]] = Counter()
    for name, to in events:
        for one in to if isinstance(to, (set, frozenset)) else [to]:
            pairs[(name, one)] += 1
    return pairs


__all__ = ["EVERYONE", "RecordingNotifier", "World", "actor_of", "bag"]
