"""The real ``inner-circle serve`` process: JSON logs without secrets, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest

from harness import ServerGroup
from inner_circle.sdk import InnerCircleClient
from tests.conftest import StartProcess
from tests.support import PASSWORD


@pytest.fixture
def json_server(start_process: StartProcess) -> ServerGroup:
    return start_process(env={"INNER_CIRCLE_LOG_FORMAT": "json", "INNER_CIRCLE_LOG_LEVEL": "DEBUG"})


async def test_logs_are_json_lines_with_ids_and_no_secrets(json_server: ServerGroup) -> None:
    secret_text = "the-secret-message-text-4711"
    wrong_password = "wrong-password-secret-0815"
    await asyncio.to_thread(json_server.register, "anna", PASSWORD, True)
    async with InnerCircleClient(json_server.url) as anna:
        from inner_circle.sdk.errors import AuthenticationError

        with pytest.raises(AuthenticationError):
            await anna.login("anna", wrong_password)
        pair = await anna.login("anna", PASSWORD)
        await anna.connect()
        chat = await anna.family_chat()
        await anna.call("sendMessage", {"chatId": str(chat.id), "content": secret_text})
        await anna.post_message(chat.id, secret_text + "-rest")
        await anna.refresh()
        tokens = [pair.access_token, pair.refresh_token, anna.access_token, anna.refresh_token]
        await anna.disconnect()
    await asyncio.to_thread(json_server.stop)

    text = json_server.log_path.read_text()
    for secret in [secret_text, wrong_password, PASSWORD, *tokens]:
        assert secret and secret not in text
    entries = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [e for e in entries if e["logger"] == "inner_circle.access"]
    assert {e["route"] for e in access} >= {"/auth/login", "/messages/{chat_id}", "/chats"}
    assert all(e["requestId"] and e["time"].endswith("Z") for e in access)
    assert len({e["requestId"] for e in access}) == len(access)
    assert all({"time", "level", "logger", "message"} <= e.keys() for e in entries)
    # Everything the server wrote to the log is JSON; the CLI's banner goes to stdout.
    non_json = [line for line in text.splitlines() if line and not line.startswith("{")]
    banner = ("Inner Circle ", "No members yet", "    ")
    assert all(line.startswith(banner) for line in non_json), non_json


async def test_sigterm_tells_socket_clients_to_reconnect(start_process: StartProcess) -> None:
    server = start_process()
    await asyncio.to_thread(server.register, "anna")
    async with InnerCircleClient(server.url) as anna:
        await anna.login("anna", PASSWORD)
        await anna.connect()
        assert anna.sio is not None
        told: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        gone = asyncio.Event()
        anna.sio.on("serverShutdown", lambda data: told.set_result(data))
        anna.sio.on("disconnect", lambda *_: gone.set())
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(told, 10) == {"reconnectAfterMs": 1000}
        await asyncio.wait_for(gone.wait(), 10)
        code = await asyncio.to_thread(server.process.wait, 15)
        # uvicorn re-raises the signal once it has shut down cleanly (systemd counts
        # an exit by SIGTERM as a success).
        assert code in (0, -signal.SIGTERM)
    log = server.log_path.read_text()
    assert "told 1 connected client(s) to reconnect" in log
    assert "Application shutdown complete" in log
