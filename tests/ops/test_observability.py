"""/metrics, /readyz and the security headers of a live server."""

from __future__ import annotations

import sqlite3
import time
import uuid

import httpx

from tests.delivery.harness import wait_until
from tests.security.conftest import StartServer
from tests.support import free_port, metric_value, metrics_samples


async def test_metrics_count_what_happened(start_server: StartServer) -> None:
    family = await start_server()
    anna = await family.member("anna", connect=True)
    ben = await family.member("ben", connect=True)
    chat = await anna.family_chat()
    await anna.call("sendMessage", {"chatId": str(chat.id), "content": "hi"})
    await ben.inbox.wait_for("messageReceived")
    assert anna.sio is not None
    await anna.sio.call("getMessages", {"chatId": str(uuid.uuid4())}, timeout=10)  # NOT_FOUND
    await anna.sio.call("noSuchEvent" + uuid.uuid4().hex, {}, timeout=10)
    async with httpx.AsyncClient(base_url=family.url) as http:
        assert (await http.get(f"/chats/{uuid.uuid4()}")).status_code == 401
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = metrics_samples(response.text)
    assert metric_value(found, "inner_circle_socket_connections") == 2
    assert (
        metric_value(found, "inner_circle_socket_events_received_total", event="sendMessage") == 1
    )
    assert metric_value(found, "inner_circle_socket_events_received_total", event="other") == 1
    assert metric_value(found, "inner_circle_socket_events_received_total", event="connect") == 2
    assert (
        metric_value(found, "inner_circle_socket_events_emitted_total", event="messageReceived")
        == 1
    )
    assert metric_value(found, "inner_circle_message_delivery_seconds_count") == 1
    assert metric_value(found, "inner_circle_errors_total", code="NOT_FOUND", edge="socket") == 1
    assert (
        metric_value(found, "inner_circle_errors_total", code="UNAUTHENTICATED", edge="http") == 1
    )
    labels = {"method": "GET", "route": "/chats"}
    assert metric_value(found, "inner_circle_http_request_duration_seconds_count", **labels) >= 1
    by_template = {"method": "GET", "route": "/chats/{chat_id}", "status": "401"}
    assert metric_value(found, "inner_circle_http_requests_total", **by_template) == 1
    assert ("inner_circle_db_connections_checked_out", frozenset()) in found
    # Client-chosen names never become labels.
    assert not any("noSuchEvent" in str(labels) for _, labels in found)


async def test_metrics_can_require_a_token(start_server: StartServer) -> None:
    family = await start_server(metrics_token="m" * 32)
    async with httpx.AsyncClient(base_url=family.url) as http:
        refused = await http.get("/metrics")
        assert refused.status_code == 401
        assert refused.json()["code"] == "UNAUTHENTICATED"
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        allowed = await http.get("/metrics", headers={"Authorization": f"Bearer {'m' * 32}"})
        assert allowed.status_code == 200


async def test_readiness_checks_database_migrations_and_redis(
    start_server: StartServer, redis_url: str, redis_prefix: str, sqlite_url: str
) -> None:
    plain = await start_server()
    with_redis = await start_server(redis_url=redis_url, redis_key_prefix=redis_prefix)
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{plain.url}/readyz")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ready",
            "database": "ok",
            "migrations": "ok",
            "redis": "disabled",
        }
        response = await http.get(f"{with_redis.url}/readyz")
        assert response.json()["redis"] == "ok"
        assert response.status_code == 200
        # An older schema (a server started before `inner-circle migrate`) is not ready.
        path = sqlite_url.removeprefix("sqlite+aiosqlite:///")
        with sqlite3.connect(path) as db:
            db.execute("UPDATE alembic_version SET version_num = '0001'")
        response = await http.get(f"{plain.url}/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert response.json()["migrations"] == "behind"


async def test_readiness_fails_when_redis_is_unreachable(start_server: StartServer) -> None:
    family = await start_server(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{family.url}/readyz")
    assert response.status_code == 503
    assert response.json()["redis"] == "unreachable"
    assert response.json()["database"] == "ok"


async def test_security_headers(start_server: StartServer) -> None:
    family = await start_server()
    async with httpx.AsyncClient(base_url=family.url) as http:
        plain = await http.get("/healthz")
        assert plain.headers["x-content-type-options"] == "nosniff"
        assert plain.headers["x-frame-options"] == "DENY"
        assert plain.headers["referrer-policy"] == "no-referrer"
        csp = plain.headers["content-security-policy"]
        for directive in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
            assert directive in csp
        assert "strict-transport-security" not in plain.headers
        assert plain.headers["x-request-id"]
        # Behind a TLS-terminating proxy on this host, uvicorn trusts X-Forwarded-Proto.
        secure = await http.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert secure.headers["strict-transport-security"].startswith("max-age=")
        errors = await http.get("/chats")  # error answers carry them too
        assert errors.status_code == 401
        assert errors.headers["x-frame-options"] == "DENY"
        assert "content-security-policy" in (await http.get("/docs")).headers
        traced = await http.get("/healthz", headers={"X-Request-ID": "proxy-abc.123"})
        assert traced.headers["x-request-id"] == "proxy-abc.123"
        forged = await http.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
        assert forged.headers["x-request-id"] != "bad id\twith spaces"


async def test_an_event_loop_stall_is_counted_in_metrics_by_its_cause(
    start_server: StartServer,
) -> None:
    family = await start_server()
    stall = "inner_circle_event_loop_stall_seconds"
    causes = ("busy", "cpu_wait", "blocked", "unknown")  # the label's values

    async with httpx.AsyncClient(base_url=family.url) as http:

        async def stalls() -> dict[str, tuple[float, float]]:
            found = metrics_samples((await http.get("/metrics")).text)
            return {
                cause: (
                    metric_value(found, f"{stall}_count", cause=cause),
                    metric_value(found, f"{stall}_sum", cause=cause),
                )
                for cause in causes
            }

        before = await stalls()
        # The server's own loop, held in a system call (the stimulus, not a wait).
        loop = family.server.server.servers[0].get_loop()
        loop.call_soon_threadsafe(time.sleep, 0.3)
        after: dict[str, tuple[float, float]] = {}

        def grown(cause: str) -> float:
            return after[cause][1] - before[cause][1]

        async def counted() -> bool:
            after.update(await stalls())
            return any(grown(cause) >= 0.25 for cause in ("blocked", "unknown"))

        await wait_until(counted, timeout=15, what="the stall in /metrics")
    # "blocked" where the kernel tells the loop thread's sleep from its running; "unknown"
    # where it keeps no such count (observability/stalls.py). Other stalls (the server's
    # first requests: "busy") may be counted meanwhile.
    (cause,) = [cause for cause in ("blocked", "unknown") if grown(cause) >= 0.25]
    assert after[cause][0] >= before[cause][0] + 1
