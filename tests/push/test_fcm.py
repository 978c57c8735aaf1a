"""FCM HTTP v1 for the seed's app: OAuth with a service account, against a local fake."""

from __future__ import annotations

import uuid
from pathlib import Path

from inner_circle.server.push.dispatch import chat_topic
from tests.calls.support import initiate
from tests.delivery.harness import wait_until
from tests.push.conftest import FakeFcm, PushReceiver, StartPush, fcm_settings, subscribe


async def test_fcm_push_with_service_account(
    push_family: StartPush, fake_fcm: FakeFcm, fcm_account_file: Path
) -> None:
    family = await push_family(**fcm_settings(fake_fcm, fcm_account_file))
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")
    await bob.save_fcm_token("bob-phone-token")
    config = (await bob.request("GET", "/push/config")).json()
    assert config["fcmEnabled"] is True
    chat = await alice.private_chat(bob.user_id)
    await alice.send_message(chat.id, "call me")
    await alice.send_message(chat.id, "please")

    first, second = await fake_fcm.wait_for(2)
    assert first["token"] == "bob-phone-token"
    assert first["notification"] == {"title": "alice", "body": "call me"}
    assert first["data"]["chatId"] == str(chat.id)
    assert first["android"]["collapse_key"] == second["android"]["collapse_key"]
    assert len(fake_fcm.issued) == 1  # the access token is reused


async def test_unregistered_fcm_token_is_dropped(
    push_family: StartPush, fake_fcm: FakeFcm, fcm_account_file: Path
) -> None:
    family = await push_family(**fcm_settings(fake_fcm, fcm_account_file))
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")
    await bob.save_fcm_token("uninstalled-app")
    fake_fcm.unregistered.add("uninstalled-app")
    chat = await alice.private_chat(bob.user_id)
    await alice.send_message(chat.id, "hello?")

    async def dropped() -> bool:
        return not (await bob.request("GET", "/push/subscriptions")).json()

    await wait_until(dropped, timeout=10, what="the token dropped")


async def test_without_fcm_config_tokens_are_kept_and_nothing_is_sent(
    push_family: StartPush, receiver: PushReceiver, fake_fcm: FakeFcm
) -> None:
    family = await push_family()
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")
    await bob.save_fcm_token("bob-phone-token")
    web = receiver.new()
    await subscribe(bob, web)  # the same member's browser: marks the message planned
    chat = await alice.private_chat(bob.user_id)
    await alice.send_message(chat.id, "hi")
    await receiver.wait_for(web.name)

    devices = (await bob.request("GET", "/push/subscriptions")).json()
    assert sorted(d["kind"] for d in devices) == ["fcm", "webpush"]
    assert fake_fcm.messages == [] and fake_fcm.issued == set()
    assert (await bob.request("GET", "/push/config")).json()["fcmEnabled"] is False


async def test_a_call_reaches_the_seed_app_as_a_high_priority_data_message(
    push_family: StartPush, fake_fcm: FakeFcm, fcm_account_file: Path
) -> None:
    family = await push_family(**fcm_settings(fake_fcm, fcm_account_file))
    anna = await family.member("anna")
    ben = await family.member("ben")  # only the seed's app, closed
    await ben.save_fcm_token("ben-phone-token")
    call = await initiate(family.url, anna, ben, "video")

    [ring] = await fake_fcm.wait_for(1)
    assert ring["token"] == "ben-phone-token"
    assert "notification" not in ring  # data only: the app shows its own call screen
    # What the seed's app reads (its incoming_call: callId, remoteUserId, callerName,
    # callType), as strings, as FCM data must be.
    assert ring["data"] == {
        "type": "call",
        "callId": call["id"],
        "callType": "video",
        "callerId": str(anna.user_id),
        "remoteUserId": str(anna.user_id),
        "callerName": "anna",
        "expiresAt": ring["data"]["expiresAt"],
    }
    assert ring["data"]["expiresAt"].startswith(call["ringUntil"][:19])
    topic = chat_topic(uuid.UUID(call["id"]))
    assert ring["android"] == {"priority": "HIGH", "ttl": "45s", "collapse_key": topic}
    assert ring["apns"]["headers"] == {"apns-collapse-id": topic, "apns-priority": "10"}
