"""Web Push end to end: a live server pushes to a local push service that checks the
VAPID JWT and decrypts every payload. Negative cases ("no push") are followed by a
push that must arrive for the same subscription first: the server has one sender
(``push_workers=1``) and plans in commit order, so a push that should not have been
sent would have arrived before it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from inner_circle.protocol.rest import ChatOut
from inner_circle.sdk import InnerCircleClient
from inner_circle.server.push.dispatch import chat_topic
from tests.delivery.harness import wait_until
from tests.push.conftest import (
    PushReceiver,
    StartPush,
    Subscription,
    b64url,
    push_metrics,
    subscribe,
)
from tests.support import Family, ShiftedClock, metric_value

SENT = "inner_circle_push_sent_total"
FAILED = "inner_circle_push_failed_total"
DROPPED = "inner_circle_push_subscriptions_dropped_total"
LATENCY = "inner_circle_push_send_seconds_count"


@dataclass
class Cousins:
    """alice (connected) and two offline members, each with one subscription, in a group.
    carol's pushes mark what was planned before them (one sender, in commit order)."""

    alice: InnerCircleClient
    bob: InnerCircleClient
    carol: InnerCircleClient
    bobs: Subscription
    carols: Subscription
    chat: ChatOut


async def cousins(family: Family, receiver: PushReceiver) -> Cousins:
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")
    carol = await family.member("carol")
    bobs, carols = receiver.new(), receiver.new()
    await subscribe(bob, bobs)
    await subscribe(carol, carols)
    chat = await alice.create_group("Cousins", [bob.user_id, carol.user_id])
    return Cousins(alice, bob, carol, bobs, carols, chat)


async def test_offline_member_gets_an_encrypted_signed_push(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    family = await push_family()
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")  # never connected: offline
    sub = receiver.new()
    await subscribe(bob, sub)
    chat = await alice.private_chat(bob.user_id)
    message = await alice.send_message(chat.id, "Dinner at seven?")

    [push] = await receiver.wait_for(sub.name)
    assert push.payload["type"] == "message"
    assert push.payload["chatId"] == str(chat.id)
    assert push.payload["messageId"] == str(message.id)
    assert push.payload["title"] == "alice"
    assert push.payload["body"] == "Dinner at seven?"
    assert push.payload["url"] == f"/#/chat/{chat.id}"
    assert push.headers["Urgency"] == "high"
    assert int(push.headers["TTL"]) > 0
    assert push.headers["Topic"] == chat_topic(chat.id)


async def test_topic_collapses_per_chat_and_fits_push_services(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    family = await push_family()
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")
    sub = receiver.new()
    await subscribe(bob, sub)
    private = await alice.private_chat(bob.user_id)
    everyone = await alice.family_chat()
    await alice.send_message(private.id, "one")
    await alice.send_message(private.id, "two")
    await alice.send_message(everyone.id, "three")

    pushes = await receiver.wait_for(sub.name, 3)
    topics = [p.headers["Topic"] for p in pushes]
    assert topics[0] == topics[1] != topics[2]
    for topic in topics:
        assert len(topic) <= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", topic)
    assert pushes[2].payload["title"] == f"alice · {everyone.name}"


async def test_visible_member_gets_none_hidden_tab_gets_one(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    family = await push_family()
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob", connect=True)  # connected: visible
    carol = await family.member("carol")  # offline: her pushes mark each message planned
    bobs, carols = receiver.new(), receiver.new()
    await subscribe(bob, bobs)
    await subscribe(carol, carols)
    chat = await alice.create_group("Cousins", [bob.user_id, carol.user_id])
    await alice.send_message(chat.id, "you are looking at this")
    await receiver.wait_for(carols.name)  # planned (bob's would be queued before now)
    await bob.call("visibility", {"hidden": True})  # the tab went to the background
    await alice.send_message(chat.id, "now you are not")

    pushes = await receiver.wait_for(bobs.name)
    assert pushes[0].payload["body"] == "now you are not"
    assert pushes[0].payload["title"] == "alice · Cousins"


async def test_muted_chat_gets_only_mentions_until_unmuted(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    c = await cousins(await push_family(), receiver)
    alice, bob, bobs, carols, chat = c.alice, c.bob, c.bobs, c.carols, c.chat
    muted = (await bob.request("PUT", f"/chats/{chat.id}/mute", json={"duration": "8h"})).json()
    assert muted["muted"] is True and muted["until"] is not None
    prefs = (await bob.request("GET", "/push/preferences")).json()
    assert [m["chatId"] for m in prefs["mutes"]] == [str(chat.id)]
    await alice.send_message(chat.id, "muted")
    await receiver.wait_for(carols.name)
    await alice.send_message(chat.id, "@bob your turn to cook")  # a mention passes the mute
    await bob.request("PUT", f"/chats/{chat.id}/mute", json={"duration": "off"})
    await alice.send_message(chat.id, "unmuted")

    pushes = await receiver.wait_for(bobs.name, 2)
    assert [p.payload["body"] for p in pushes] == ["@bob your turn to cook", "unmuted"]


async def test_hidden_text_says_new_message(push_family: StartPush, receiver: PushReceiver) -> None:
    family = await push_family()
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")
    sub = receiver.new()
    await subscribe(bob, sub)
    answer = await bob.request("PUT", "/push/preferences", json={"showText": False})
    assert answer.json()["showText"] is False
    chat = await alice.private_chat(bob.user_id)
    await alice.send_message(chat.id, "the secret recipe")

    [push] = await receiver.wait_for(sub.name)
    assert push.payload["body"] == "New message"
    assert push.payload["hidden"] is True
    assert "secret" not in str(push.payload)


async def test_senders_own_devices_never_get_a_push(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    family = await push_family()
    alice = await family.member("alice", connect=True)
    alice_phone = await family.device(alice, connect=False)  # offline device of the sender
    bob = await family.member("bob", connect=True)
    sub = receiver.new()
    await subscribe(alice_phone, sub)
    chat = await alice.private_chat(bob.user_id)
    await alice.send_message(chat.id, "from my laptop")
    await bob.send_message(chat.id, "reply")

    pushes = await receiver.wait_for(sub.name)
    assert pushes[0].payload["body"] == "reply"
    assert pushes[0].payload["senderId"] == str(bob.user_id)


async def test_gone_subscription_is_deleted(push_family: StartPush, receiver: PushReceiver) -> None:
    family = await push_family()
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")
    sub = receiver.new()
    await subscribe(bob, sub)
    devices = (await bob.request("GET", "/push/subscriptions")).json()
    assert [d["kind"] for d in devices] == ["webpush"] and devices[0]["thisDevice"]
    receiver.answers[sub.name] = [410]
    chat = await alice.private_chat(bob.user_id)
    await alice.send_message(chat.id, "anyone there?")

    async def deleted() -> bool:
        return not (await bob.request("GET", "/push/subscriptions")).json()

    await wait_until(deleted, timeout=10, what="the subscription deleted")
    assert receiver.attempts[sub.name] == 1  # 410 is final: no retry

    async def counted() -> bool:  # the drop is counted after its commit
        found = await push_metrics(bob)
        return metric_value(found, DROPPED, kind="webpush") == 1

    await wait_until(counted, timeout=10, what="the dropped subscription counted")
    found = await push_metrics(bob)
    assert metric_value(found, FAILED, kind="webpush") == 1
    assert metric_value(found, SENT, kind="webpush") == 0
    assert metric_value(found, LATENCY, kind="webpush") == 1


async def test_rate_limited_push_is_retried(push_family: StartPush, receiver: PushReceiver) -> None:
    family = await push_family()
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")
    sub = receiver.new()
    await subscribe(bob, sub)
    receiver.answers[sub.name] = [429, 503]
    chat = await alice.private_chat(bob.user_id)
    await alice.send_message(chat.id, "third time lucky")

    [push] = await receiver.wait_for(sub.name)
    assert push.payload["body"] == "third time lucky"
    assert receiver.attempts[sub.name] == 3

    async def counted() -> bool:  # the counter moves once the answer is read
        sent = 'inner_circle_push_sent_total{kind="webpush"} 1.0'
        return sent in (await bob.request("GET", "/metrics")).text

    await wait_until(counted, timeout=10, what="the push counted")


async def test_subscription_input_is_checked(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    family = await push_family()
    bob = await family.member("bob")
    good = receiver.new().to_json()
    for bad in (
        {**good, "endpoint": "ftp://push.example/x"},
        {**good, "endpoint": "https://user:pw@push.example/x"},
        {**good, "keys": {"p256dh": "AAAA", "auth": good["keys"]["auth"]}},
        {**good, "keys": {"p256dh": good["keys"]["p256dh"], "auth": "c2hvcnQ"}},
        {**good, "endpoint": "https://push.example/" + "x" * 2100},
    ):
        response = await bob._http.post(
            "/push/subscriptions", json=bad, headers={"Authorization": f"Bearer {bob.access_token}"}
        )
        assert response.status_code in (400, 422), bad
        assert response.json()["code"] == "VALIDATION_FAILED"
    assert (await bob.request("GET", "/push/subscriptions")).json() == []
    await bob.request("DELETE", "/push/subscriptions", json={"endpoint": good["endpoint"]})


async def test_redirects_are_not_followed(push_family: StartPush, receiver: PushReceiver) -> None:
    c = await cousins(await push_family(), receiver)
    alice, bobs, carols, chat = c.alice, c.bobs, c.carols, c.chat
    evil = receiver.new("evil")
    receiver.answers[bobs.name] = [307]
    await alice.send_message(chat.id, "follow me")
    await receiver.wait_for(carols.name)
    await alice.send_message(chat.id, "second")
    await receiver.wait_for(bobs.name)  # bob's first (redirected) push was dropped
    assert receiver.attempts[bobs.name] == 2
    assert receiver.attempts[evil.name] == 0
    assert [p.payload["body"] for p in receiver.received[bobs.name]] == ["second"]


async def test_logout_forgets_the_sessions_subscription(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    family = await push_family()
    bob = await family.member("bob")
    bob_laptop = await family.device(bob, connect=False)
    await subscribe(bob, receiver.new())
    await subscribe(bob_laptop, receiver.new())
    assert len((await bob_laptop.request("GET", "/push/subscriptions")).json()) == 2
    await bob.logout()
    left = (await bob_laptop.request("GET", "/push/subscriptions")).json()
    assert [d["thisDevice"] for d in left] == [True]


async def test_mute_needs_membership(push_family: StartPush) -> None:
    family = await push_family()
    alice = await family.member("alice")
    bob = await family.member("bob")
    carol = await family.member("carol")
    chat = await alice.private_chat(bob.user_id)
    response = await carol._http.put(
        f"/chats/{chat.id}/mute",
        json={"duration": "1h"},
        headers={"Authorization": f"Bearer {carol.access_token}"},
    )
    assert response.status_code == 404
    bad = await alice._http.put(
        f"/chats/{chat.id}/mute",
        json={"duration": "1y"},
        headers={"Authorization": f"Bearer {alice.access_token}"},
    )
    assert bad.status_code in (400, 422)


async def test_a_file_message_says_what_it_carries_and_no_link(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    family = await push_family()
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")
    sub = receiver.new()
    await subscribe(bob, sub)
    chat = await alice.private_chat(bob.user_id)
    upload = await alice.upload_file(b"%PDF-1.4 menu", name="menu.pdf")
    await alice.send_message(chat.id, attachment_ids=[upload.id])
    second = await alice.upload_file(b"%PDF-1.4 menu 2", name="menu2.pdf")
    await alice.send_message(chat.id, "for Sunday", attachment_ids=[second.id])

    pushes = await receiver.wait_for(sub.name, 2)
    assert [p.payload["body"] for p in pushes] == ["📎 menu.pdf", "📎 for Sunday"]
    assert "/media/" not in str([p.payload for p in pushes])


async def test_an_endpoint_resolving_inward_at_send_time_gets_no_request(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    # Subscribed while the names were harmless (the form is checked then); by the time of
    # the send they also resolve to a private and a metadata address. Their first answer
    # is the receiver: a sender that checked only that one would reach it.
    answers = {"private.push.test": ["127.0.0.1"], "metadata.push.test": ["127.0.0.1"]}

    async def dns(host: str, port: int) -> Sequence[str]:
        return answers[host]

    family = await push_family(resolver=dns)
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")
    carol = await family.member("carol")
    private = receiver.new(host="private.push.test")
    metadata = receiver.new(host="metadata.push.test")
    carols = receiver.new()
    await subscribe(bob, private)
    await subscribe(bob, metadata)
    await subscribe(carol, carols)
    answers["private.push.test"] = ["127.0.0.1", "10.0.0.1"]
    answers["metadata.push.test"] = ["127.0.0.1", "169.254.169.254"]
    chat = await alice.create_group("Cousins", [bob.user_id, carol.user_id])
    await alice.send_message(chat.id, "dinner?")

    async def refused() -> bool:
        return metric_value(await push_metrics(alice), FAILED, kind="webpush") == 2

    await wait_until(refused, timeout=10, what="both refusals counted")
    assert receiver.attempts[private.name] == 0 and receiver.attempts[metadata.name] == 0
    [push] = await receiver.wait_for(carols.name)  # the others are pushed as usual
    assert push.payload["body"] == "dinner?"
    # Refused, not gone: DNS may answer well again, so the subscriptions stay.
    assert len((await bob.request("GET", "/push/subscriptions")).json()) == 2
    answers["private.push.test"] = ["127.0.0.1"]
    await alice.send_message(chat.id, "second try")
    [again] = await receiver.wait_for(private.name)
    assert again.payload["body"] == "second try"
    assert receiver.attempts[metadata.name] == 0


async def test_the_eleventh_subscription_drops_the_oldest(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    family = await push_family()
    bob = await family.member("bob")
    ids = [(await subscribe(bob, receiver.new()))["id"] for _ in range(11)]
    kept = [d["id"] for d in (await bob.request("GET", "/push/subscriptions")).json()]
    assert family.settings.push_max_subscriptions_per_member == 10
    assert kept == ids[1:]


async def test_a_one_hour_mute_runs_out(push_family: StartPush, receiver: PushReceiver) -> None:
    clock = ShiftedClock()
    c = await cousins(await push_family(clock=clock), receiver)
    alice, bob, bobs, carols, chat = c.alice, c.bob, c.bobs, c.carols, c.chat
    await bob.request("PUT", f"/chats/{chat.id}/mute", json={"duration": "1h"})
    await alice.send_message(chat.id, "within the hour")
    await receiver.wait_for(carols.name)  # bob's would have been queued before it
    clock.shift = timedelta(minutes=59)
    await alice.send_message(chat.id, "still within")
    await receiver.wait_for(carols.name, 2)
    assert receiver.received[bobs.name] == []

    clock.shift = timedelta(minutes=61)
    assert (await bob.request("GET", "/push/preferences")).json()["mutes"] == []
    await alice.send_message(chat.id, "the hour is over")
    [push] = await receiver.wait_for(bobs.name)
    assert push.payload["body"] == "the hour is over"


async def test_a_configured_vapid_key_signs_the_pushes(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    family = await push_family(push_vapid_private_key=b64url(raw))
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")
    assert receiver.vapid_public_key == b64url(public)  # GET /push/config
    sub = receiver.new()
    await subscribe(bob, sub)
    chat = await alice.private_chat(bob.user_id)
    await alice.send_message(chat.id, "signed with the configured key")

    [push] = await receiver.wait_for(sub.name)  # k and the JWT checked against it
    assert push.payload["body"] == "signed with the configured key"
    assert not (family.settings.data_dir / "vapid-private-key").exists()  # none generated
