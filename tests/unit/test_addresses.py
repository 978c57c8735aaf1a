"""Client addresses and origins: pure rules (core/addresses.py)."""

from __future__ import annotations

import pytest

from inner_circle.core.addresses import is_loopback, limit_key, parse_origin, same_origin


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2::9]", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::1", "::/64"),
        ("198.51.100.7", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("testclient", "testclient"),
    ],
)
def test_limit_key_counts_ipv6_by_64(address: str, key: str) -> None:
    assert limit_key(address) == key


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("192.168.1.2", False),
        ("203.0.113.9", False),
        ("2001:db8::1", False),
        ("localhost", False),  # only addresses count, never names a client could claim
        ("", False),
        (None, False),
    ],
)
def test_is_loopback(address: str | None, local: bool) -> None:
    assert is_loopback(address) is local


def test_same_origin_matches_scheme_host_and_port() -> None:
    assert same_origin("http://chat.example", "http", "chat.example")
    assert same_origin("http://chat.example:80", "http", "chat.example")
    assert same_origin("https://chat.example", "https", "chat.example:443")
    assert same_origin("https://Chat.Example", "wss", "chat.example")
    assert same_origin("http://127.0.0.1:3000", "ws", "127.0.0.1:3000")
    assert same_origin("http://[::1]:3000", "http", "[::1]:3000")
    assert not same_origin("https://chat.example", "http", "chat.example")
    assert not same_origin("http://chat.example:8080", "http", "chat.example")
    assert not same_origin("http://evil.example", "http", "chat.example")
    assert not same_origin("http://chat.example.evil.example", "http", "chat.example")
    assert not same_origin("null", "http", "chat.example")
    assert not same_origin("http://chat.example", "http", "chat.example/x")
    assert not same_origin("http://chat.example", "http", "")


def test_parse_origin() -> None:
    assert parse_origin("https://a.example") == ("https", "a.example", 443)
    assert parse_origin("http://a.example:8080/") == ("http", "a.example", 8080)
    assert parse_origin("ftp://a.example") is None
    assert parse_origin("http://a.example:99999") is None
    assert parse_origin("null") is None
