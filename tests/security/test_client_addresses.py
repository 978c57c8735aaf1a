"""Client addresses as the limits and /metrics see them (X-Forwarded-For from the trusted
proxy on this machine stands for a client elsewhere)."""

from __future__ import annotations

import httpx

from tests.security.conftest import StartServer


async def login_status(http: httpx.AsyncClient, address: str, username: str) -> int:
    response = await http.post(
        "/auth/login",
        json={"username": username, "password": "wrong-password"},
        headers={"X-Forwarded-For": address},
    )
    return response.status_code


async def test_ipv6_clients_are_counted_by_their_64(start_server: StartServer) -> None:
    family = await start_server(
        limit_login_address_free_attempts=3,
        limit_login_free_attempts=100,
        limit_lockout_base_seconds=60,
    )
    async with httpx.AsyncClient(base_url=family.url) as http:
        # Each attempt from a new address of the same /64 (privacy addresses are free to make).
        for i in range(1, 4):
            assert await login_status(http, f"2001:db8:0:1::{i}", f"nobody{i}") == 401
        assert await login_status(http, "2001:db8:0:1:ffff:1:2:3", "nobody4") == 429
        # Another /64 (another household) is not held back.
        assert await login_status(http, "2001:db8:0:2::1", "nobody5") == 401
        # IPv4 clients keep their own counts.
        assert await login_status(http, "198.51.100.7", "nobody6") == 401
        assert await login_status(http, "198.51.100.8", "nobody7") == 401


async def test_metrics_answer_only_loopback_without_a_token(start_server: StartServer) -> None:
    family = await start_server()
    async with httpx.AsyncClient(base_url=family.url) as http:
        assert (await http.get("/metrics")).status_code == 200  # from 127.0.0.1
        for remote in ("203.0.113.9", "2001:db8::1", "10.0.0.2"):
            refused = await http.get("/metrics", headers={"X-Forwarded-For": remote})
            assert refused.status_code == 403, remote
            assert refused.json()["code"] == "FORBIDDEN"
            assert "inner_circle_" not in refused.text
    token = "m" * 32
    scraped = await start_server(metrics_token=token)
    async with httpx.AsyncClient(base_url=scraped.url) as http:
        remote = {"X-Forwarded-For": "203.0.113.9"}
        assert (await http.get("/metrics", headers=remote)).status_code == 401
        allowed = await http.get("/metrics", headers={**remote, "Authorization": f"Bearer {token}"})
        assert allowed.status_code == 200
        assert "inner_circle_" in allowed.text
