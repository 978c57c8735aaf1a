"""Which browser origins may open a socket, the CSP's connect-src, exact paths, the API docs."""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp
import httpx
import socketio

from tests.security.conftest import StartServer
from tests.support import Family

EVIL = "https://evil.example"
FRIEND = "https://photos.family.example"


async def socket_opens(family: Family, token: str, transport: str, **headers: str) -> bool:
    """A real Socket.IO client with the given headers (Origin, Host, X-Forwarded-Proto)."""
    async with aiohttp.ClientSession() as session:  # ours, so a refused handshake closes it
        client = socketio.AsyncClient(reconnection=False, http_session=session)
        try:
            await client.connect(
                family.url,
                headers=headers,
                auth={"token": token},
                transports=[transport],
                wait_timeout=10,
            )
        except socketio.exceptions.ConnectionError:
            return False
        connected = client.connected
        await client.disconnect()
        return connected


def own_origin(family: Family, scheme: str = "http") -> str:
    return f"{scheme}://{urlsplit(family.url).netloc}"


async def test_socket_accepts_own_origin_and_native_apps_refuses_others(
    start_server: StartServer,
) -> None:
    # WebSocket: browsers do not apply CORS to it, so the Origin check is all there is.
    # (The long-polling handshake is checked over plain HTTP below.)
    transport = "websocket"
    family = await start_server()
    anna = await family.member("anna")
    token = anna.access_token
    assert token
    assert await socket_opens(family, token, transport)  # a native app sends no Origin
    assert await socket_opens(family, token, transport, Origin=own_origin(family))
    assert not await socket_opens(family, token, transport, Origin=EVIL)
    assert not await socket_opens(family, token, transport, Origin="null")
    # Same host, other port or scheme: another origin.
    assert not await socket_opens(family, token, transport, Origin="http://127.0.0.1:1")
    assert not await socket_opens(family, token, transport, Origin=own_origin(family, "https"))
    # Behind a TLS proxy on this machine (trusted by uvicorn), the page is https.
    assert await socket_opens(
        family,
        token,
        transport,
        Origin=own_origin(family, "https"),
        **{"X-Forwarded-Proto": "https"},
    )
    # A proxy passes the public host name in Host.
    assert await socket_opens(
        family,
        token,
        transport,
        Origin="https://chat.family.example",
        Host="chat.family.example",
        **{"X-Forwarded-Proto": "https"},
    )


async def test_configured_origins_add_to_own_origin(start_server: StartServer) -> None:
    family = await start_server(cors_origins=[FRIEND])
    anna = await family.member("anna")
    token = anna.access_token
    assert token
    assert await socket_opens(family, token, "websocket", Origin=FRIEND)
    assert await socket_opens(family, token, "websocket", Origin=own_origin(family))
    assert await socket_opens(family, token, "websocket")
    assert not await socket_opens(family, token, "websocket", Origin=EVIL)


async def test_foreign_origin_is_refused_at_the_engine_io_handshake(
    start_server: StartServer,
) -> None:
    family = await start_server()
    async with httpx.AsyncClient(base_url=family.url) as http:
        path = "/socket.io/?EIO=4&transport=polling"
        refused = await http.get(path, headers={"Origin": EVIL})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        allowed = await http.get(path, headers={"Origin": own_origin(family)})
        assert allowed.status_code == 200
        assert allowed.text.startswith("0{")  # the Engine.IO open packet
        assert allowed.headers["access-control-allow-origin"] == own_origin(family)
        behind_proxy = await http.get(
            path,
            headers={
                "Origin": "https://chat.example",
                "Host": "chat.example",
                "X-Forwarded-Proto": "https",
            },
        )
        assert behind_proxy.status_code == 200
    friendly = await start_server(cors_origins=[FRIEND])
    async with httpx.AsyncClient(base_url=friendly.url) as http:
        assert (await http.get(path, headers={"Origin": FRIEND})).status_code == 200
        assert (await http.get(path, headers={"Origin": own_origin(friendly)})).status_code == 200
        assert (await http.get(path, headers={"Origin": EVIL})).status_code == 400


async def test_csp_connect_src_names_only_this_server(start_server: StartServer) -> None:
    family = await start_server()
    host = urlsplit(family.url).netloc
    async with httpx.AsyncClient(base_url=family.url) as http:
        for path in ("/", "/healthz", "/join/ABCD"):
            csp = (await http.get(path)).headers["content-security-policy"]
            directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
            assert directives["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}"]
        # A Host header that is not a plain host name never reaches the header.
        odd = await http.get("/healthz", headers={"Host": "x; script-src *"})
        assert "script-src *" not in odd.headers["content-security-policy"]
        assert "connect-src 'self';" in odd.headers["content-security-policy"]


async def test_crafted_paths_do_not_escape_the_csp(start_server: StartServer) -> None:
    family = await start_server()
    async with httpx.AsyncClient(base_url=family.url) as http:
        page = await http.get("/")
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert "content-security-policy" in page.headers
        for crafted in (
            "/docs%2f..%2findex.html",
            "/docs%2F..%2Findex.html",
            "/redoc%2f..%2findex.html",
            "/assets%5c..%5cindex.html",
        ):
            # httpx would normalise dot segments; send the path exactly as written.
            request = http.build_request("GET", family.url)
            request.url = request.url.copy_with(raw_path=crafted.encode())
            response = await http.send(request)
            assert response.status_code == 404, crafted
            assert "content-security-policy" in response.headers
            assert "<html" not in response.text.lower()
        # Every HTML answer carries the policy.
        for path in ("/", "/index.html", "/join/ABCD"):
            answer = await http.get(path)
            assert answer.headers["content-type"].startswith("text/html")
            assert "default-src 'self'" in answer.headers["content-security-policy"]


async def test_api_docs_are_off_in_production_and_opt_in(start_server: StartServer) -> None:
    production = await start_server()
    async with httpx.AsyncClient(base_url=production.url) as http:
        for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            response = await http.get(path)
            assert response.status_code == 404, path
            assert "swagger" not in response.text.lower()
        assert (await http.get("/openapi.json")).status_code == 200
    documented = await start_server(api_docs=True)
    async with httpx.AsyncClient(base_url=documented.url) as http:
        docs = await http.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        # Even the docs page has a policy: scripts from https only, nothing framed, no plugins.
        csp = docs.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "connect-src 'self'" in csp
    development = await start_server(mode="development")
    async with httpx.AsyncClient(base_url=development.url) as http:
        assert (await http.get("/redoc")).status_code == 200
