"""The web client keeps its live socket across access-token refreshes (`reauth`, ADR 10).

The server closes a socket when its access token expires. With 8-second tokens the web
client refreshes every 5 seconds; each refresh hands the new token to the open socket, so
the same connection outlives its first token instead of being closed and reopened.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.e2e.conftest import PHONE, api_token, sign_in
from tests.support import PASSWORD, process_server

pytestmark = pytest.mark.browser

TTL = 8


def counted(metrics: str, event: str) -> float:
    pattern = rf'^inner_circle_socket_events_received_total\{{event="{event}"\}} (\S+)$'
    match = re.search(pattern, metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_web_socket_outlives_its_first_token(browser: Any, tmp_path: Path) -> None:
    server = process_server(tmp_path, env={"INNER_CIRCLE_ACCESS_TOKEN_TTL_SECONDS": str(TTL)})
    server.start()
    context = None
    try:
        anna = server.register("anna_renewal")
        context = browser.new_context(viewport=PHONE, base_url=server.url)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.goto("/")
        sign_in(page, anna["username"], PASSWORD)
        # A probe that signs in after anna and never renews: once the server has closed
        # it for expiry, anna's first token has expired too.
        probe = server.register("probe_renewal")
        token = api_token(server.url, probe["username"], PASSWORD)
        ws_url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        with connect(ws_url) as ws:
            assert ws.recv(timeout=10).startswith("0")
            ws.send("40" + json.dumps({"token": token}))
            assert str(ws.recv(timeout=10)).startswith("40")
            while not str(frame := ws.recv(timeout=TTL * 3)).startswith("41"):
                if frame == "2":
                    ws.send("3")  # Engine.IO ping
        # The probe's disconnect is counted once its handler has run, after the server
        # sent it "41": read the metrics once it is.
        deadline = time.monotonic() + 10
        while counted(metrics := httpx.get(f"{server.url}/metrics").text, "disconnect") < 1:
            assert time.monotonic() < deadline, "the probe's disconnect was never counted"
            page.wait_for_timeout(50)  # polling a counter, bounded by the deadline
        assert counted(metrics, "reauth") >= 1, "the web client never renewed its socket"
        # Two connections (anna's and the probe's), one closed (the probe's): anna's
        # socket is the one she opened at sign-in, still open after its token expired.
        assert counted(metrics, "connect") == 2
        assert counted(metrics, "disconnect") == 1
    finally:
        if context is not None:
            context.close()
        server.close()
