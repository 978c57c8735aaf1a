"""Browser fixtures for the web client's end-to-end tests (Playwright, Debian's chromium)."""

from __future__ import annotations

import math
import os
import struct
import tempfile
import uuid
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import ServerGroup
from tests.support import process_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("INNER_CIRCLE_CHROMIUM", "/usr/bin/chromium"))
STATIC_INDEX = ROOT / "src" / "inner_circle" / "server" / "static" / "index.html"
# Where shot() writes: INNER_CIRCLE_SCREENSHOTS (relative to the repository, e.g.
# ``docs/screenshots`` to refresh the documented ones), else a folder in the temp directory,
# so that a test run leaves the worktree clean.
SCREENSHOTS = ROOT / os.environ.get(
    "INNER_CIRCLE_SCREENSHOTS", str(Path(tempfile.gettempdir()) / "inner-circle-screenshots")
)
REQUIRE = os.environ.get("INNER_CIRCLE_REQUIRE_SERVICES") == "1"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Calls: a fake camera and microphone, permission prompts answered yes, sound without a click.
MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    # Host candidates as plain addresses (no mDNS names to resolve between the two contexts).
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def _missing(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def tone_wav(path: Path, seconds: float = 3.0, rate: int = 16_000) -> Path:
    """A 440 Hz tone that fades in and out each second: the fake microphone's input."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            envelope = abs(math.sin(math.pi * i / rate))
            frames += struct.pack(
                "<h", int(12_000 * envelope * math.sin(2 * math.pi * 440 * i / rate))
            )
        w.writeframes(bytes(frames))
    return path


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    if not STATIC_INDEX.exists():
        _missing("the web client is not built (cd web && npm ci && npm run build)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright (python) is not installed")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def fake_microphone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tone_wav(tmp_path_factory.mktemp("media") / "tone.wav")


@pytest.fixture(scope="session")
def browser(playwright_driver: Any, fake_microphone: Path) -> Iterator[Any]:
    """Chromium with a fake camera and microphone (the microphone plays a tone) and no
    camera/microphone prompt: voice messages are recorded in it."""
    media = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={fake_microphone}",
    ]
    b = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS + media)
    yield b
    b.close()


@pytest.fixture(scope="session")
def media_browser(playwright_driver: Any, fake_microphone: Path) -> Iterator[Any]:
    """The browser for calls: ARGS and MEDIA_ARGS (the same one for every call test)."""
    args = [*ARGS, *MEDIA_ARGS, f"--use-file-for-fake-audio-capture={fake_microphone}"]
    b = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=args)
    yield b
    b.close()


@pytest.fixture
def new_page(
    browser: Any, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """Opens a page in a fresh browser context (its own storage, like another device);
    ``media=True``: in the calls browser, with camera and microphone granted; ``server``:
    another server than the session's; ``user_agent``: the browser another device says it is."""
    contexts: list[Any] = []

    def make(
        *,
        viewport: dict[str, int] | None = None,
        locale: str = "en-US",
        color_scheme: str = "light",
        path: str = "/",
        media: bool = False,
        server: Any = None,
        user_agent: str | None = None,
    ) -> Any:
        # Granting a list denies every permission not in it (notifications too): only
        # calls get one, so the notification offer keeps its "ask" state elsewhere.
        granted = {"permissions": ["camera", "microphone"]} if media else {}
        context = (request.getfixturevalue("media_browser") if media else browser).new_context(
            viewport=viewport or PHONE,
            locale=locale,
            color_scheme=color_scheme,
            base_url=(server or live_server).url,
            service_workers="allow",
            **granted,
            **({"user_agent": user_agent} if user_agent else {}),
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(path)
        return page

    errors: list[str] = []
    yield make
    for context in contexts:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def member(live_server: Any) -> Callable[..., dict[str, Any]]:
    """Creates a member with a unique username; returns {username, password, id, ...}."""

    def make(
        prefix: str = "member",
        admin: bool = False,
        display_name: str | None = None,
        server: Any = None,
    ) -> dict[str, Any]:
        server = server or live_server
        username = f"{prefix}_{uuid.uuid4().hex[:6]}"
        password = "family-pass-1"
        body: dict[str, Any] = {
            "username": username,
            "password": password,
            "invitationCode": server.invite(admin=admin),
        }
        if display_name:
            body["displayName"] = display_name
        r = httpx.post(f"{server.url}/users/register", json=body)
        assert r.status_code == 201, r.text
        return {**r.json(), "password": password}

    return make


def api_token(url: str, username: str, password: str) -> str:
    r = httpx.post(f"{url}/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def sign_in(page: Any, username: str, password: str) -> None:
    """Signs in through the login form and waits for the chat list."""
    from playwright.sync_api import expect

    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Chats")).to_be_visible()


def shot(page: Any, name: str) -> Path:
    """Screenshot ``name`` into SCREENSHOTS; returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    # Finished animations (a dialog's pop-in), so that a screenshot does not catch one halfway.
    page.screenshot(path=str(path), animations="disabled")
    return path


# --- the server: one process for the whole browser session ---------------------------------


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerGroup]:
    """``inner-circle serve`` (the harness's, with the tests' settings) for every browser
    test; rate limits off: the history test seeds 130 messages faster than a person types."""
    server = process_server(
        tmp_path_factory.mktemp("live"), env={"INNER_CIRCLE_RATE_LIMITS_ENABLED": "false"}
    )
    server.start()
    yield server
    server.close()
