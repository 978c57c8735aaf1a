"""The seed's Flutter app, reduced to what it sends and reads: raw HTTP and a raw
Socket.IO client (``transports: ['websocket'], auth: {token}``), with every event kept."""

from __future__ import annotations

from typing import Any

import httpx
import socketio

from inner_circle.sdk.events import EventInbox
from tests.contract import dart
from tests.support import PASSWORD, Family

__all__ = ["App", "join"]


class App:
    def __init__(self, family: Family) -> None:
        self.url = family.url
        self.http = httpx.AsyncClient(base_url=family.url, timeout=10)
        self.sio: socketio.AsyncClient | None = None
        self.inbox = EventInbox()
        self.calls: socketio.AsyncClient | None = None
        self.call_inbox = EventInbox()
        self.access_token = ""
        self.refresh_token = ""
        self.user_id = ""
        self.username = ""

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        response = await self.http.post(
            "/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code in (200, 201), response.text
        answer = response.json()
        access, _ = dart.check_login(answer)
        self.access_token, self.refresh_token = answer["access_token"], answer["refresh_token"]
        self.user_id, self.username = access["sub"], access["username"]  # what the app keeps
        self.http.headers["Authorization"] = f"Bearer {self.access_token}"
        return dict(answer)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params or None)

    async def post(self, path: str, body: Any) -> httpx.Response:
        return await self.http.post(path, json=body)

    async def delete(self, path: str) -> httpx.Response:
        return await self.http.delete(path)

    async def connect(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)

        @self.sio.on("*")
        async def record(event: str, *args: Any) -> None:
            self.inbox.push(event, args[0] if len(args) == 1 else list(args))

        await self.sio.connect(
            self.url, auth={"token": self.access_token}, transports=["websocket"]
        )

    async def connect_calls(self) -> None:
        """The app's CallSocketClient: ``/calls`` with the same token, websocket only."""
        self.calls = socketio.AsyncClient(reconnection=False)

        @self.calls.on("*", namespace="/calls")
        async def record(event: str, *args: Any) -> None:
            self.call_inbox.push(event, args[0] if len(args) == 1 else list(args))

        await self.calls.connect(
            self.url,
            namespaces=["/calls"],
            auth={"token": self.access_token},
            transports=["websocket"],
            wait_timeout=10,
        )

    async def emit_call(self, event: str, payload: Any) -> Any:
        assert self.calls is not None
        return await self.calls.call(event, payload, namespace="/calls", timeout=10)

    async def emit(self, event: str, payload: Any) -> Any:
        assert self.sio is not None
        return await self.sio.call(event, payload, timeout=10)

    async def close(self) -> None:
        for sio in (self.sio, self.calls):
            if sio is not None:
                await sio.disconnect()
        await self.http.aclose()


async def join(family: Family, username: str) -> App:
    """Register through the seed's route with an invitation, then sign in as the app does."""
    app = App(family)
    response = await app.post(
        "/users/register",
        {"username": username, "password": PASSWORD, "invitationCode": await family.invite()},
    )
    assert response.status_code == 201, response.text
    await app.login(username)
    return app
