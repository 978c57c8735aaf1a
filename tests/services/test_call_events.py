"""The calls use cases emit exactly these events, on ``/calls``, to exactly these members
(and ask for exactly these pushes)."""

from __future__ import annotations

from typing import Any

from inner_circle.protocol.calls import InitiateCallIn
from inner_circle.server.ports import OutgoingEvent
from inner_circle.server.services import calls
from tests.services.conftest import World


def _calls(world: World) -> list[tuple[str, Any, Any]]:
    """The /calls events since the last look: (name, recipients or sid, push asked for)."""
    events: list[OutgoingEvent] = list(world.notifier.events)
    world.notifier.events.clear()
    return [
        (
            e.name,
            e.only_sid or frozenset(e.user_ids),
            (e.extra["push"]["type"], frozenset(e.extra["pushTo"]))
            if e.extra.get("push")
            else None,
        )
        for e in events
        if e.namespace == calls.NAMESPACE
    ]


async def test_ring_accept_on_one_device_and_hang_up(world: World) -> None:
    anna, ben = await world.member("anna"), await world.member("ben")
    body = InitiateCallIn(target_user_id=ben.id, type="video")
    call = await world.run(lambda uow: calls.initiate(uow, anna, body))
    assert _calls(world) == [
        ("incoming_call", frozenset({ben.id}), ("call", frozenset({ben.id}))),
        ("call_initiated", frozenset({anna.id}), None),
    ]
    await world.run(lambda uow: calls.accept(uow, ben, call.id, "ben-phone"))
    stop = ("call-ended", frozenset({ben.id}))
    assert _calls(world) == [
        ("call_accepted", frozenset({anna.id}), stop),
        ("call_answered_elsewhere", frozenset({ben.id}), None),
        ("call_ended", frozenset({ben.id}), None),
    ]
    assert {e.skip_sid for e in world.notifier.events} <= {None}  # taken above: none left
    await world.run(lambda uow: calls.end(uow, anna, call.id, "anna-tab"))
    events = [e for e in world.notifier.events if e.namespace == calls.NAMESPACE]
    assert [(e.name, frozenset(e.user_ids), e.skip_sid) for e in events] == [
        ("call_ended", frozenset({anna.id, ben.id}), "anna-tab")
    ]
    names = [e.name for e in world.notifier.events if e.namespace == "/"]
    assert names.count("messageReceived") == 1  # the call's entry, in the chat namespace


async def test_a_busy_callee_is_told_to_nobody_but_the_caller(world: World) -> None:
    anna, ben, carl = [await world.member(n) for n in ("anna", "ben", "carl")]
    first = InitiateCallIn(target_user_id=ben.id)
    await world.run(lambda uow: calls.initiate(uow, anna, first))
    world.notifier.events.clear()
    busy = await world.run(
        lambda uow: calls.initiate(uow, carl, InitiateCallIn(target_user_id=ben.id))
    )
    assert busy.status == "busy"
    assert _calls(world) == [
        ("call_initiated", frozenset({carl.id}), None),
        ("call_rejected", frozenset({carl.id}), None),
    ]


async def test_the_sweep_ends_a_ringing_call_once(world: World) -> None:
    anna, ben = await world.member("anna"), await world.member("ben")
    world.uows.ctx.settings.call_ring_seconds = 0.0  # rings until "now"
    call = await world.run(
        lambda uow: calls.initiate(uow, anna, InitiateCallIn(target_user_id=ben.id))
    )
    world.notifier.events.clear()
    due = await world.run(calls.expired_calls)
    assert call.id in due
    assert await world.run(lambda uow: calls.expire(uow, call.id)) is True
    assert await world.run(lambda uow: calls.expire(uow, call.id)) is False  # a second sweep
    assert _calls(world) == [
        ("call_ended", frozenset({anna.id, ben.id}), ("call-ended", frozenset({ben.id})))
    ]
