"""TURN settings and credentials: the TURN REST API format coturn checks, handed out per
member by ``GET /calls/webrtc-config``; a bad setting stops the server at start."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import pytest
from pydantic import ValidationError

from inner_circle.core.turn import turn_credential
from inner_circle.server.settings import Settings
from tests.calls.support import rest

SECRET = "s3cret-shared-with-coturn"


def test_the_credential_is_the_turn_rest_api_hmac() -> None:
    username, credential = turn_credential(SECRET, "user-1", 1_900_000_000)
    assert username == "1900000000:user-1"
    expected = hmac.new(SECRET.encode(), username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(credential) == expected


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"turn_urls": "http://turn.example.org"}, "INNER_CIRCLE_TURN_URLS"),
        ({"turn_urls": "stun:turn.example.org"}, "INNER_CIRCLE_TURN_URLS"),
        ({"turn_urls": "turn:turn.example.org:3478?transport=sctp"}, "INNER_CIRCLE_TURN_URLS"),
        ({"turn_urls": "turn:turn.example.org"}, "INNER_CIRCLE_TURN_SECRET"),
        (
            {"turn_urls": "turn:turn.example.org", "turn_secret": "short"},
            "INNER_CIRCLE_TURN_SECRET",
        ),
        ({"stun_urls": "turn:stun.example.org"}, "INNER_CIRCLE_STUN_URLS"),
    ],
)
def test_bad_turn_settings_stop_the_server_with_a_clear_message(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**settings)


def test_good_turn_settings_are_split_and_kept() -> None:
    settings = Settings(
        turn_urls="turn:[2001:db8::1]:3478?transport=udp, turns:turn.example.org:5349",
        turn_secret=SECRET,
        stun_urls="stun:stun.example.org:3478",
    )
    assert settings.turn_urls == [
        "turn:[2001:db8::1]:3478?transport=udp",
        "turns:turn.example.org:5349",
    ]
    assert settings.stun_urls == ["stun:stun.example.org:3478"]


async def test_each_member_gets_a_short_lived_credential_of_their_own(start_server: Any) -> None:
    family = await start_server(
        turn_urls=[
            "turn:turn.example.org:3478?transport=udp",
            "turn:turn.example.org:3478?transport=tcp",
        ],
        turn_secret=SECRET,
        turn_ttl_seconds=600,
    )
    anna = await family.member("anna")
    config = (await rest(family.url, "GET", "/calls/webrtc-config", anna)).json()
    stun, turn = config["iceServers"]
    assert stun == {"urls": ["stun:turn.example.org:3478"]}
    assert turn["urls"] == [
        "turn:turn.example.org:3478?transport=udp",
        "turn:turn.example.org:3478?transport=tcp",
    ]
    expiry, user_id = turn["username"].split(":")
    assert user_id == str(anna.user_id)
    assert abs(int(expiry) - (time.time() + 600)) < 60
    assert config["ttl"] == 600
    digest = hmac.new(SECRET.encode(), turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(digest).decode()
    assert SECRET not in str(config)
    anonymous = await rest(family.url, "GET", "/calls/webrtc-config")
    assert anonymous.status_code == 401


async def test_without_turn_there_is_no_credential(family: Any) -> None:
    anna = await family.member("anna")
    config = (await rest(family.url, "GET", "/calls/webrtc-config", anna)).json()
    assert config["iceServers"] == []
