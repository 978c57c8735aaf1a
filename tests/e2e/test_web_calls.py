"""Calls in the web client: real Chromium with a fake camera and microphone, the real
server's `/calls` signaling, WebRTC between two browser contexts on this machine."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from harness import ServerGroup
from tests.e2e.conftest import DESKTOP, PHONE, api_token, shot, sign_in
from tests.support import process_server

pytestmark = pytest.mark.browser

RING_SECONDS = 3
DURATION = r"\d+:\d\d"


@pytest.fixture(scope="module")
def short_ring_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerGroup]:
    """A server whose calls ring for RING_SECONDS, so that "no answer" comes quickly."""
    server = process_server(
        tmp_path_factory.mktemp("short-ring"),
        env={
            "INNER_CIRCLE_RATE_LIMITS_ENABLED": "false",
            "INNER_CIRCLE_CALL_RING_SECONDS": str(RING_SECONDS),
            "INNER_CIRCLE_CALL_SWEEP_SECONDS": "1",
        },
    )
    server.start()
    yield server
    server.close()


# Keeps the page's peer connections reachable from the test (the app never exposes them).
KEEP_PEERS = """
const Native = window.RTCPeerConnection;
window.__peers = [];
window.RTCPeerConnection = class extends Native {
  constructor(...args) { super(...args); window.__peers.push(this); }
};
"""
UFRAG = "window.__peers.at(-1).remoteDescription.sdp.match(/a=ice-ufrag:(\\S+)/)[1]"


# A phone's two cameras (Chromium's fake device is one; a facingMode it cannot honour asks
# for that one) and a wake lock that records what the page asks of it.
PHONE_DEVICES = """
const md = navigator.mediaDevices;
const listDevices = md.enumerateDevices.bind(md);
md.enumerateDevices = async () => [
  ...(await listDevices()),
  { deviceId: 'back', groupId: 'back', kind: 'videoinput', label: 'Back camera', toJSON() { return this; } },
];
const getMedia = md.getUserMedia.bind(md);
window.__facing = [];
md.getUserMedia = (c) => {
  const exact = c && c.video && c.video.facingMode && c.video.facingMode.exact;
  if (!exact) return getMedia(c);
  window.__facing.push(exact);
  return getMedia({ ...c, video: true });
};
window.__wake = [];
Object.defineProperty(navigator, 'wakeLock', { configurable: true, value: {
  request: async (type) => {
    window.__wake.push('request ' + type);
    const lock = new EventTarget();
    lock.release = async () => { window.__wake.push('release'); lock.dispatchEvent(new Event('release')); };
    return lock;
  },
} });
"""

# On the caller's page: ``window.__ice(state)`` makes the peer connection report an ICE
# state, and every offer it creates from then on is recorded with its time.
ICE_DROPS = """() => {
  const pc = window.__peers.at(-1);
  window.__ice = (state) => {
    const at = performance.now();
    Object.defineProperty(pc, 'iceConnectionState', { get: () => state, configurable: true });
    pc.dispatchEvent(new Event('iceconnectionstatechange'));
    delete pc.iceConnectionState;
    return at;
  };
  window.__offers = [];
  const createOffer = pc.createOffer.bind(pc);
  pc.createOffer = (options) => {
    window.__offers.push({ iceRestart: !!options?.iceRestart, at: performance.now() });
    return createOffer(options);
  };
}"""
# A short drop (disconnected and back at once), then three seconds later ICE fails.
SHORT_DROP_THEN_FAILURE = """() => {
  window.__ice('disconnected');
  window.__ice('connected');
  return new Promise((done) => setTimeout(() => done(window.__ice('failed')), 3000));
}"""


def keep_peers(page: Any, *scripts: str) -> None:
    """Reloads the page with KEEP_PEERS and ``scripts`` run before the app's own code."""
    for script in (KEEP_PEERS, *scripts):
        page.context.add_init_script(script)
    page.reload()
    expect(page.get_by_role("heading", name="Chats")).to_be_visible()


def people(member: Any, *names: str, server: Any = None) -> list[dict[str, Any]]:
    """Members named "<first> <tag> <last>" (display names are unique on a server; the
    initials stay those of first and last name)."""
    tag = uuid.uuid4().hex[:4]
    out = []
    for name in names:
        first, last = name.split()
        out.append(member(first.lower(), display_name=f"{first} {tag} {last}", server=server))
    return out


def signed_in(new_page: Any, m: dict[str, Any], **kw: Any) -> Any:
    page = new_page(media=True, **kw)
    if kw.get("locale") == "ru-RU":
        page.get_by_label("Имя пользователя").fill(m["username"])
        page.get_by_label("Пароль").fill(m["password"])
        page.get_by_role("button", name="Войти").click()
        expect(page.get_by_role("heading", name="Чаты")).to_be_visible()
    else:
        sign_in(page, m["username"], m["password"])
    return page


def open_private_chat(page: Any, name: str) -> None:
    page.get_by_role("button", name="New chat").click()
    page.get_by_role("button", name=f"Open chat with {name}").click()
    expect(page.locator(".chat-head-title")).to_have_text(name)


def open_chat(page: Any, name: str) -> None:
    page.locator(".chat-item", has_text=name).first.click()
    expect(page.locator(".chat-head-title")).to_have_text(name)


def incoming(page: Any, kind: str, name: str) -> Any:
    return page.get_by_role("alertdialog", name=f"Incoming {kind} call: {name}")


def call_screen(page: Any) -> Any:
    return page.locator(".call-screen")


def test_video_call_rings_every_device_connects_and_is_written_to_the_chat(
    new_page: Any, member: Any
) -> None:
    anna, boris = people(member, "Anna Smirnova", "Boris Petrov")
    pa = signed_in(new_page, anna, viewport=PHONE)
    pb = signed_in(new_page, boris, viewport=PHONE, color_scheme="dark")
    pb2 = signed_in(new_page, boris, viewport=DESKTOP)

    keep_peers(pa)
    keep_peers(pb)
    open_private_chat(pa, boris["displayName"])
    pa.get_by_role("button", name="Video call", exact=True).click()
    expect(call_screen(pa)).to_have_attribute("data-call-phase", "outgoing")
    expect(call_screen(pa).locator(".call-timer")).to_have_text("Ringing…")

    # Both of Boris's devices ring, with Anna's name and initials.
    for page in (pb, pb2):
        ring = incoming(page, "video", anna["displayName"])
        expect(ring).to_be_visible()
        expect(ring.locator(".avatar")).to_have_text("AS")
    shot(pb, "phone-call-incoming-dark.png")

    # The first device to accept takes the call; the other stops ringing.
    incoming(pb, "video", anna["displayName"]).get_by_role("button", name="Accept").click()
    expect(incoming(pb2, "video", anna["displayName"])).to_have_count(0)
    expect(pb2.locator(".call-layer")).to_have_count(0)

    for page in (pa, pb):
        screen = call_screen(page)
        expect(screen).to_have_attribute("data-connection-state", "connected")
        expect(screen).to_have_attribute("data-call-phase", "active")
        expect(screen.locator(".call-timer")).to_have_text(re.compile(DURATION))
        # Media really flows: the other side's fake camera plays in the big video.
        page.wait_for_function(
            "() => document.querySelector('.call-remote')?.videoWidth > 0"
            " && !document.querySelector('.call-remote').paused"
        )
        expect(screen.locator(".call-quality")).to_have_attribute(
            "data-quality", re.compile("good|fair|poor")
        )

    # In-call controls: mute and camera off, both shown as pressed, and back.
    mute = call_screen(pa).get_by_role("button", name="Mute", exact=True)
    mute.click()
    expect(call_screen(pa).get_by_role("button", name="Unmute")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert pa.evaluate(
        "[...document.querySelector('.call-self').srcObject.getAudioTracks()]"
        ".every(t => !t.enabled)"
    )
    call_screen(pa).get_by_role("button", name="Unmute").click()
    call_screen(pa).get_by_role("button", name="Turn camera off").click()
    expect(call_screen(pa).locator(".call-self")).to_have_class(re.compile(r"\boff\b"))
    call_screen(pa).get_by_role("button", name="Turn camera on").click()
    expect(call_screen(pa).locator(".call-self")).not_to_have_class(re.compile(r"\boff\b"))

    shot(pa, "phone-call-video-light.png")
    shot(pb, "phone-call-video-dark.png")

    # The caller's ICE fails (as after a network change): it restarts ICE, the new offer
    # goes through the server, Boris answers with new credentials, the call stays up.
    ufrag = pb.evaluate(UFRAG)
    pa.evaluate(
        """() => {
        const pc = window.__peers.at(-1);
        Object.defineProperty(pc, 'iceConnectionState', { get: () => 'failed', configurable: true });
        pc.dispatchEvent(new Event('iceconnectionstatechange'));
        delete pc.iceConnectionState;
    }"""
    )
    pb.wait_for_function(f"() => {UFRAG} !== {ufrag!r}")
    pa.wait_for_function("() => window.__peers.at(-1).signalingState === 'stable'")
    for page in (pa, pb):
        expect(call_screen(page)).to_have_attribute("data-connection-state", "connected")

    # Anna hangs up: both calls end, and the chat shows the call on both sides.
    call_screen(pa).get_by_role("button", name="Hang up").click()
    expect(call_screen(pb)).to_have_attribute("data-end-reason", "ended")
    expect(pa.locator(".call-layer")).to_have_count(0)
    expect(pb.locator(".call-layer")).to_have_count(0)
    entry = pa.locator(".call-entry")
    expect(entry).to_have_count(1)
    expect(entry.locator(".call-entry-title")).to_have_text(
        re.compile(rf"^Outgoing video call, {DURATION}$")
    )
    open_chat(pb2, anna["displayName"])
    expect(pb2.locator(".call-entry-title")).to_have_text(
        re.compile(rf"^Incoming video call, {DURATION}$")
    )


def test_declined_call_and_a_busy_callee(new_page: Any, member: Any) -> None:
    anna, boris, vera = people(member, "Anna Smirnova", "Boris Petrov", "Vera Orlova")
    pa = signed_in(new_page, anna)
    pb = signed_in(new_page, boris)
    pv = signed_in(new_page, vera)

    open_private_chat(pa, boris["displayName"])
    pa.get_by_role("button", name="Audio call", exact=True).click()
    ring = incoming(pb, "audio", anna["displayName"])
    expect(ring).to_be_visible()
    shot(pb, "phone-call-incoming-light.png")

    # Boris is on a line while his phone rings: Vera's call finds him busy.
    open_private_chat(pv, boris["displayName"])
    pv.get_by_role("button", name="Audio call", exact=True).click()
    expect(call_screen(pv)).to_have_attribute("data-end-reason", "busy")
    expect(call_screen(pv).locator(".call-timer")).to_have_text("Busy: on another call")
    expect(incoming(pb, "audio", vera["displayName"])).to_have_count(0)

    # A tab Boris opens while it rings rings too (GET /calls/active); he declines there,
    # and the first tab stops ringing.
    late = signed_in(new_page, boris, viewport=DESKTOP)
    late_ring = incoming(late, "audio", anna["displayName"])
    late_ring.get_by_role("button", name="Decline").click()
    expect(late_ring).to_have_count(0)
    expect(ring).to_have_count(0)
    expect(call_screen(pa)).to_have_attribute("data-end-reason", "declined")
    expect(call_screen(pa).locator(".call-timer")).to_have_text("Declined")
    expect(pa.locator(".call-entry-title")).to_have_text("Declined")
    open_chat(pb, anna["displayName"])
    expect(pb.locator(".call-entry-title")).to_have_text("Declined call")
    expect(pv.locator(".call-entry-title")).to_have_text("Busy: on another call")
    expect(pb.locator(".call-layer")).to_have_count(0)
    shot(pb, "phone-call-entry-light.png")

    # Boris calls back from the entry: an audio call shows Anna's initials, no video.
    pb.get_by_role("button", name="Call back: Audio call").click()
    incoming(pa, "audio", boris["displayName"]).get_by_role("button", name="Accept").click()
    for page in (pa, pb):
        expect(call_screen(page)).to_have_attribute("data-connection-state", "connected")
        expect(call_screen(page).locator(".call-self")).to_have_count(0)
    expect(call_screen(pb).locator(".call-avatar .avatar")).to_have_text("AS")
    pb.wait_for_function(
        "() => document.querySelector('.call-remote').srcObject?.getAudioTracks().length === 1"
    )
    shot(pb, "phone-call-audio-light.png")
    call_screen(pa).get_by_role("button", name="Hang up").click()
    expect(pb.locator(".call-entry-title").last).to_have_text(
        re.compile(rf"^Outgoing audio call, {DURATION}$")
    )


def test_unanswered_call_is_missed(
    new_page: Any, member: Any, short_ring_server: ServerGroup
) -> None:
    anna, boris = people(member, "Anna Smirnova", "Boris Petrov", server=short_ring_server)
    pa = signed_in(new_page, anna, server=short_ring_server)
    pb = signed_in(new_page, boris, server=short_ring_server, locale="ru-RU")

    open_private_chat(pa, boris["displayName"])
    pa.get_by_role("button", name="Video call", exact=True).click()
    ring = pb.get_by_role("alertdialog", name=f"Входящий видеозвонок: {anna['displayName']}")
    expect(ring).to_be_visible()
    # Nobody answers: the server ends it after the ring time.
    expect(call_screen(pa)).to_have_attribute("data-end-reason", "noAnswer")
    expect(call_screen(pa).locator(".call-timer")).to_have_text("No answer")
    expect(ring).to_have_count(0)
    expect(pa.locator(".call-entry-title")).to_have_text("No answer")
    pb.locator(".chat-item", has_text=anna["displayName"]).first.click()
    missed = pb.locator(".call-entry")
    expect(missed).to_have_class(re.compile(r"\bmissed\b"))
    expect(missed.locator(".call-entry-title")).to_have_text("Пропущенный звонок")


def test_group_call_of_three_in_a_mesh(live_server: Any, new_page: Any, member: Any) -> None:
    anna, boris, vera = people(member, "Anna Smirnova", "Boris Petrov", "Vera Orlova")
    group = f"Trip {uuid.uuid4().hex[:5]}"
    r = httpx.post(
        f"{live_server.url}/chats",
        json={"name": group, "participantIds": [boris["id"], vera["id"]]},
        headers={
            "Authorization": f"Bearer {api_token(live_server.url, anna['username'], anna['password'])}"
        },
    )
    assert r.status_code == 201, r.text
    pa = signed_in(new_page, anna)
    pb = signed_in(new_page, boris)
    pv = signed_in(new_page, vera, viewport=DESKTOP)

    open_chat(pa, group)
    pa.get_by_role("button", name="Group video call", exact=True).click()
    expect(call_screen(pa).locator(".call-timer")).to_have_text("Waiting for others…")
    for page in (pb, pv):
        expect(page.get_by_role("alertdialog", name=f"Group call: {group}")).to_be_visible()

    pb.get_by_role("alertdialog", name=f"Group call: {group}").get_by_role(
        "button", name="Accept"
    ).click()
    expect(
        call_screen(pa).locator(f'.call-tile[data-member-id="{boris["id"]}"]')
    ).to_have_attribute("data-connection-state", "connected")
    expect(call_screen(pb).locator(f'.call-tile[data-member-id="{anna["id"]}"]')).to_have_attribute(
        "data-connection-state", "connected"
    )

    # Vera joins: she offers to both, and everyone has two connected tiles.
    pv.get_by_role("alertdialog", name=f"Group call: {group}").get_by_role(
        "button", name="Accept"
    ).click()
    for page in (pa, pb, pv):
        expect(
            call_screen(page).locator('.call-tile[data-connection-state="connected"]')
        ).to_have_count(2)
        expect(call_screen(page).locator(".call-kind")).to_have_text("3 in the call")
    pv.wait_for_function(
        "() => [...document.querySelectorAll('.call-tile-video')].every(v => v.videoWidth > 0)"
    )
    # Who is talking: the fake microphones play a tone, so the others' tiles light up.
    expect(call_screen(pv).locator(".call-tile.talking").first).to_be_visible()
    shot(pv, "desktop-group-call-light.png")

    # Vera leaves; Anna and Boris stay connected to each other.
    call_screen(pv).get_by_role("button", name="Hang up").click()
    for page in (pa, pb):
        expect(call_screen(page).locator(".call-tile")).to_have_count(1)
        expect(call_screen(page).locator(".call-tile")).to_have_attribute(
            "data-connection-state", "connected"
        )
    call_screen(pb).get_by_role("button", name="Hang up").click()
    call_screen(pa).get_by_role("button", name="Hang up").click()
    expect(pa.locator(".call-layer")).to_have_count(0)
    expect(pa.locator(".call-entry-title")).to_have_text(
        re.compile(rf"^Group video call, {DURATION}$")
    )
    # Vera left before the end: the entry reaches her chat list too.
    expect(pv.locator(".chat-item", has_text=group).locator(".chat-item-preview")).to_have_text(
        re.compile(rf"Group video call, {DURATION}")
    )


def test_call_from_a_profile_switches_camera_and_keeps_the_screen_on(
    live_server: Any, new_page: Any, member: Any
) -> None:
    anna, boris = people(member, "Anna Smirnova", "Boris Petrov")
    group = f"Dacha {uuid.uuid4().hex[:5]}"
    token = api_token(live_server.url, anna["username"], anna["password"])
    r = httpx.post(
        f"{live_server.url}/chats",
        json={"name": group, "participantIds": [boris["id"]]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.text
    pa = signed_in(new_page, anna)
    pb = signed_in(new_page, boris)
    keep_peers(pa, PHONE_DEVICES)

    # A member's row in the group's info: a 1:1 call to that member, not a group call.
    open_chat(pa, group)
    pa.get_by_role("button", name="Chat info", exact=True).click()
    row = pa.get_by_role("dialog").locator(".person-row", has_text=boris["displayName"])
    row.get_by_role("button", name="Video call", exact=True).click()
    # The call takes the screen; Chat info is not left open behind it.
    expect(pa.get_by_role("dialog").locator(".person-row")).to_have_count(0)
    incoming(pb, "video", anna["displayName"]).get_by_role("button", name="Accept").click()
    for page in (pa, pb):
        expect(call_screen(page)).to_have_attribute("data-connection-state", "connected")
    expect(call_screen(pb).locator(".call-name")).to_have_text(anna["displayName"])
    assert pa.evaluate("window.__wake") == ["request screen"]

    # Two cameras on Anna's phone, one on Boris's: only Anna can switch.
    expect(call_screen(pb).get_by_role("button", name="Switch camera")).to_have_count(0)
    self_view = call_screen(pa).locator(".call-self")
    expect(self_view).to_have_class(re.compile(r"\bmirror\b"))
    before = pa.evaluate("document.querySelector('.call-self').srcObject.getVideoTracks()[0].id")
    call_screen(pa).get_by_role("button", name="Switch camera").click()
    expect(self_view).not_to_have_class(re.compile(r"\bmirror\b"))
    assert pa.evaluate("window.__facing") == ["environment"]
    # The new camera's track is what the peer connection sends now, without renegotiating.
    pa.wait_for_function(
        """(before) => {
        const id = document.querySelector('.call-self').srcObject.getVideoTracks()[0].id;
        const sent = window.__peers.at(-1).getSenders().find((s) => s.track?.kind === 'video');
        return id !== before && sent.track.id === id;
    }""",
        arg=before,
    )

    # A drop that lasts restarts ICE once, a grace period after it began; one that heals
    # at once restarts nothing (the next restart is the one a failure asks for).
    pa.evaluate(ICE_DROPS)
    for drop in ("() => window.__ice('disconnected')", SHORT_DROP_THEN_FAILURE):
        ufrag = pa.evaluate(UFRAG)
        pa.evaluate("window.__offers = []")
        began = pa.evaluate(drop)
        pa.wait_for_function(f"() => {UFRAG} !== {ufrag!r}")
        offers = pa.evaluate("window.__offers")
        assert [o["iceRestart"] for o in offers] == [True], offers
        grace = 2400 if drop.endswith("('disconnected')") else 0
        assert offers[0]["at"] - began >= grace, (offers, began)
        for page in (pa, pb):
            expect(call_screen(page)).to_have_attribute("data-connection-state", "connected")

    # Hanging up lets the screen sleep again.
    call_screen(pa).get_by_role("button", name="Hang up").click()
    expect(pa.locator(".call-layer")).to_have_count(0)
    assert pa.evaluate("window.__wake") == ["request screen", "release"]
    # The entry goes to the private chat of the two, not the group the call was made from.
    expect(pa.locator(".call-entry")).to_have_count(0)
    expect(pa.get_by_role("dialog")).to_have_count(0)  # back in the group, not its info
    pa.get_by_role("button", name="Back").click()
    open_chat(pa, boris["displayName"])
    expect(pa.locator(".call-entry-title")).to_have_text(
        re.compile(rf"^Outgoing video call, {DURATION}$")
    )
