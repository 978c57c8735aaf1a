"""A real Socket.IO client on the ``/calls`` namespace, and REST helpers for calls."""

from __future__ import annotations

from typing import Any

import httpx
import socketio

from inner_circle.protocol.events import CallServerEvent
from inner_circle.sdk import InnerCircleClient
from inner_circle.sdk.events import EventInbox

NS = "/calls"


class CallSocket:
    """One device's ``/calls`` connection; every server event lands in ``inbox``."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.inbox = EventInbox()
        self.sio = socketio.AsyncClient(reconnection=False)
        for name in CallServerEvent.names():
            self.sio.on(name, self._recorder(name), namespace=NS)
        self.sio.on("disconnect", self._recorder("disconnect"), namespace=NS)

    def _recorder(self, name: str) -> Any:
        async def record(payload: Any = None, *_: Any) -> None:
            self.inbox.push(name, payload)

        return record

    async def connect(self) -> CallSocket:
        await self.sio.connect(
            self.url,
            namespaces=[NS],
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=10,  # the library's 1 s is short on a busy machine
        )
        return self

    async def call(self, event: str, data: Any) -> dict[str, Any]:
        ack = await self.sio.call(event, data, namespace=NS, timeout=15)
        assert isinstance(ack, dict)
        return ack

    async def close(self) -> None:
        await self.sio.disconnect()


async def call_socket(url: str, member: InnerCircleClient) -> CallSocket:
    assert member.access_token
    return await CallSocket(url, member.access_token).connect()


def auth(member: InnerCircleClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.access_token}"}


async def rest(
    url: str, method: str, path: str, member: InnerCircleClient | None = None, **kwargs: Any
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url) as http:
        headers = auth(member) if member is not None else {}
        return await http.request(method, path, headers=headers, **kwargs)


async def initiate(
    url: str, caller: InnerCircleClient, callee: InnerCircleClient, kind: str = "audio"
) -> dict[str, Any]:
    response = await rest(
        url,
        "POST",
        "/calls/initiate",
        caller,
        json={"targetUserId": str(callee.user_id), "type": kind},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
