"""Acknowledged means stored: the ack leaves only after the commit, and a send whose
commit fails gets an error ack and is announced to nobody."""

from __future__ import annotations

import asyncio

import pytest

from inner_circle.sdk import InnerCircleAPIError, ServerUnavailable
from tests.delivery.checks import full_history
from tests.delivery.harness import PrivatePostgres, ServerProcess, wait_until
from tests.support import Family

POISON_TRIGGER = """
CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.content LIKE 'poison%' THEN
    RAISE EXCEPTION 'refused at commit';
  END IF;
  RETURN NEW;
END $$;
CREATE CONSTRAINT TRIGGER poison_at_commit AFTER INSERT ON messages
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_poison();
"""


async def test_history_has_the_message_as_soon_as_the_ack(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris")  # reads through REST only
    chat = await anna.family_chat()

    async def send_and_look(n: int) -> None:
        sent = await anna.send_message(chat.id, f"stored {n}")
        seen = await boris.history(chat.id, after=sent.seq - 1, limit=1)
        assert [m.id for m in seen] == [sent.id], f"acked #{n} not yet in history"

    for start in range(0, 120, 6):  # six concurrent sends share group commits
        await asyncio.gather(*(send_and_look(n) for n in range(start, start + 6)))
    assert len(await full_history(boris, chat.id)) == 120


async def _database_url(family: Family) -> str:
    return family.settings.resolved_database_url.replace("+asyncpg", "")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_failed_commit_gets_an_error_ack_and_no_event(family: Family) -> None:
    import asyncpg

    connection = await asyncpg.connect(await _database_url(family), timeout=5)
    try:
        await connection.execute(POISON_TRIGGER)
    finally:
        await connection.close()
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    chat = await anna.family_chat()

    before = await anna.send_message(chat.id, "fine before")
    with pytest.raises(InnerCircleAPIError) as refused:
        await anna.send_message(chat.id, "poison: the INSERT works, the COMMIT fails")
    assert refused.value.code == "INTERNAL"
    after = await anna.send_message(chat.id, "fine after")

    # Fenced by "fine after": boris has every event sent before it.
    await boris.inbox.wait_for("messageReceived", lambda m: m["id"] == str(after.id))
    received = [m["content"] for m in boris.inbox.all("messageReceived")]
    assert received == ["fine before", "fine after"]
    echoed = [m["content"] for m in anna.inbox.all("messageSent")]
    assert "poison" not in " ".join(echoed)
    history = await full_history(anna, chat.id)
    assert [(m.seq, m.content) for m in history] == [(1, "fine before"), (2, "fine after")]
    assert before.seq == 1 and after.seq == 2  # the failed one took no seq


async def test_database_down_gets_unavailable_and_no_event(
    outage_family: Family, private_pg: PrivatePostgres
) -> None:
    server: ServerProcess = outage_family.server
    anna = await outage_family.member("anna", connect=True)
    boris = await outage_family.member("boris", connect=True)
    chat = await anna.family_chat()
    await anna.send_message(chat.id, "before")

    await asyncio.to_thread(private_pg.stop, "immediate")
    for n in range(3):
        with pytest.raises(ServerUnavailable) as refused:
            await anna.send_message(chat.id, f"lost {n}", client_message_id=f"down-{n}")
        assert refused.value.code == "UNAVAILABLE"
    await asyncio.to_thread(private_pg.start)

    async def ready() -> bool:
        return await server.astatus("/readyz") == 200

    await wait_until(ready, timeout=30, what="/readyz 200")
    after = await anna.send_message(chat.id, "after")
    await boris.inbox.wait_for("messageReceived", lambda m: m["id"] == str(after.id))
    assert [m["content"] for m in boris.inbox.all("messageReceived")] == ["before", "after"]
    assert [m.content for m in await full_history(anna, chat.id)] == ["before", "after"]
