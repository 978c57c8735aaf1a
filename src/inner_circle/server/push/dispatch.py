"""Who gets a push for a committed message, and the bounded pool that sends them.

The unit of work hands committed events to the notifier; :class:`PushingNotifier`
passes them on, then gives ``messageReceived`` events to :class:`PushService`, which
plans in a background task (never on the sender's request path):

* every participant but the sender (so never the sender's own devices);
* minus members who muted the chat;
* each Web Push subscription and FCM token of theirs whose sign-in session is still
  live and has no connected, visible client (server/push/visibility.py).

**Once per message, with several processes.** Only the process whose unit of work
committed the message runs the after-commit hook (the Redis manager relays the socket
emit to the other processes, not the hook), so each push is planned once by
construction; a retried send that republishes the same message is recognised by its
id and not pushed again (within this process, which is the one the retry reaches
through the idempotency key's answer).

A push is only a wake-up: losing one (a full queue, a push service that is down)
never loses a message, since the client syncs when it opens.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram

from inner_circle.core.clock import Clock
from inner_circle.protocol.events import ServerEvent
from inner_circle.server.ports import DEVICE_HOLDERS, Notifier, OutgoingEvent
from inner_circle.server.push.endpoints import Resolver
from inner_circle.server.push.reads import (
    fcm_read_message,
    must_show_every_push,
    read_payload,
    unread_state,
)
from inner_circle.server.push.senders import (
    FcmSender,
    Outcome,
    RetryPolicy,
    WebPushMessage,
    WebPushSender,
)
from inner_circle.server.push.shown import MemoryShownMarks, ShownMarks
from inner_circle.server.push.vapid import VapidKey
from inner_circle.server.push.visibility import VisibilityTracker
from inner_circle.server.repositories import push as push_repo
from inner_circle.server.repositories import tokens as tokens_repo
from inner_circle.server.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from inner_circle.server.db.uow import UnitOfWorkFactory

__all__ = ["PushMetrics", "PushService", "PushingNotifier", "chat_topic"]

log = logging.getLogger(__name__)
HIDDEN_TEXT = "New message"
MAX_BODY_CHARS = 300
RECENT_MESSAGES = 4096
SEND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def chat_topic(chat_id: uuid.UUID) -> str:
    """The ``Topic`` header for a chat: its 16 bytes in base64url, 22 characters (push
    services take at most 32 URL-safe characters; a UUID with hyphens has 36)."""
    return base64.urlsafe_b64encode(chat_id.bytes).rstrip(b"=").decode("ascii")


class PushMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sent = Counter(
            "inner_circle_push_sent",
            "Pushes accepted by the push service, by kind",
            ["kind"],
            registry=registry,
        )
        self.failed = Counter(
            "inner_circle_push_failed",
            "Pushes that failed after retries, by kind",
            ["kind"],
            registry=registry,
        )
        self.dropped = Counter(
            "inner_circle_push_subscriptions_dropped",
            "Subscriptions and tokens deleted because the push service said they are gone",
            ["kind"],
            registry=registry,
        )
        self.skipped = Counter(
            "inner_circle_push_skipped",
            "Pushes not sent: the send queue was full (a push is only a wake-up)",
            registry=registry,
        )
        self.latency = Histogram(
            "inner_circle_push_send_seconds",
            "From the commit of a message to the push service's answer, by kind",
            ["kind"],
            buckets=SEND_BUCKETS,
            registry=registry,
        )


@dataclass(frozen=True, slots=True)
class _Sub:
    id: uuid.UUID
    user_id: uuid.UUID
    session_id: uuid.UUID
    endpoint: str
    p256dh: str
    auth: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class _Token:
    id: uuid.UUID
    user_id: uuid.UUID
    session_id: uuid.UUID
    token: str


@dataclass(frozen=True, slots=True)
class _Plan:
    kind: str  # message | call | read
    payload: dict[str, Any]
    user_ids: Sequence[uuid.UUID]
    reader: uuid.UUID | None = None  # read: the session that read (it gets no push)
    holders: frozenset[uuid.UUID] | None = None  # message: who has a device, if known


@dataclass(slots=True)
class _Job:
    kind: str  # webpush | fcm
    target_id: uuid.UUID
    committed_at: float
    web: WebPushMessage | None = None
    fcm: dict[str, Any] | None = None


class PushService:
    """Plans pushes for committed messages and sends them with ``push_workers`` workers."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        visibility: VisibilityTracker,
        registry: CollectorRegistry,
        *,
        marks: ShownMarks | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self.visibility = visibility
        self.marks: ShownMarks = marks if marks is not None else MemoryShownMarks()
        self.metrics = PushMetrics(registry)
        self._resolver = resolver
        self.vapid = (
            VapidKey.from_raw(settings.push_vapid_private_key, settings.push_vapid_subject)
            if settings.push_vapid_private_key
            else VapidKey.load_or_create(settings.data_dir, settings.push_vapid_subject)
        )
        self.uows: UnitOfWorkFactory | None = None  # set by the app once it exists
        self._policy = RetryPolicy(settings.push_attempts, settings.push_retry_base_seconds)
        self._queue: asyncio.Queue[_Job] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._plans: asyncio.Queue[tuple[list[_Plan], float]] | None = None
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._sending: dict[uuid.UUID, tuple[asyncio.Lock, int]] = {}  # lock, its users
        self._client: httpx.AsyncClient | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._web: WebPushSender | None = None
        self._fcm: FcmSender | None = None
        self._fcm_off_logged = False

    @property
    def fcm_enabled(self) -> bool:
        return self.settings.push_fcm_service_account_file is not None

    async def start(self) -> None:
        """Start the send workers and the visibility heartbeat (in the app's lifespan)."""
        s = self.settings
        # No proxies from the environment: the request must go to the checked address.
        self._client = httpx.AsyncClient(timeout=s.push_timeout_seconds, trust_env=False)
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="push-crypto")
        self._web = WebPushSender(
            self.vapid,
            self._client,
            self._executor,
            policy=self._policy,
            resolver=self._resolver,
            allow_loopback=s.push_allow_loopback,
        )
        if s.push_fcm_service_account_file is not None:
            self._fcm = FcmSender.from_file(
                s.push_fcm_service_account_file, s.push_fcm_url, self._client, self._policy
            )
        self._queue = asyncio.Queue(maxsize=s.push_queue_size)
        self._plans = asyncio.Queue(maxsize=s.push_queue_size)
        # One planner, in commit order; then ``push_workers`` senders.
        self._tasks = [asyncio.create_task(self._plan_forever())]
        self._tasks += [asyncio.create_task(self._work()) for _ in range(s.push_workers)]
        self._tasks.append(asyncio.create_task(self._keep_visibility(s.presence_ttl_seconds / 3)))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        await self.visibility.close()
        await self.marks.close()

    # --- planning ---------------------------------------------------------------------

    def committed(self, events: Sequence[OutgoingEvent]) -> None:
        """Called right after a commit's events were published: plan their pushes
        (``messageReceived``; ``messagesRead`` for the read pushes of ADR 17; and call
        notifications a use case asked for in ``extra["push"]``, see services/calls.py)."""
        if self._plans is None or self.uows is None:
            return
        fresh: list[_Plan] = []
        for event in events:
            if event.name == ServerEvent.MESSAGES_READ and isinstance(event.payload, dict):
                reader = event.extra.get("readerSessionId")
                fresh.append(_Plan("read", event.payload, event.user_ids, reader))
                continue
            if event.name == ServerEvent.MESSAGE_RECEIVED and isinstance(event.payload, dict):
                key = str(event.payload.get("id") or "")
                holders = event.extra.get(DEVICE_HOLDERS)
                plan = _Plan("message", event.payload, event.user_ids, holders=holders)
            elif isinstance(event.extra.get("push"), dict):
                push = event.extra["push"]
                key = f"{push.get('type')}:{push.get('callId')}"
                plan = _Plan("call", push, event.extra.get("pushTo") or [])
            else:
                continue
            if not key or key in self._recent:
                continue  # a retried send republishing a message already pushed
            self._recent[key] = None
            if len(self._recent) > RECENT_MESSAGES:
                self._recent.popitem(last=False)
            fresh.append(plan)
        if not fresh:
            return
        try:
            self._plans.put_nowait((fresh, time.perf_counter()))
        except asyncio.QueueFull:
            self.metrics.skipped.inc()
            log.warning("push planning queue full: pushes skipped (clients sync when opened)")

    async def _plan_forever(self) -> None:
        assert self._plans is not None
        while True:
            plans, committed_at = await self._plans.get()
            try:
                holders = await self._device_holders(plans)
                for plan in plans:
                    if plan.kind == "message" and holders.isdisjoint(plan.user_ids):
                        continue  # nobody in this chat has a device to push to
                    if plan.kind == "read":
                        await self._plan_read(plan.payload, plan.reader, committed_at)
                    elif plan.kind == "call":
                        await self._plan_call(plan.payload, plan.user_ids, committed_at)
                    else:
                        await self._plan_one(plan.payload, plan.user_ids, committed_at)
            except Exception:
                log.exception("could not plan pushes")

    async def _device_holders(self, plans: Sequence[_Plan]) -> set[uuid.UUID]:
        """Who of the messages' audiences has a push device, in one read for a whole
        commit batch: most messages need no push at all, and finding that out per message
        cost three queries each (docs/performance.md)."""
        known: set[uuid.UUID] = set()
        audience: set[uuid.UUID] = set()
        for plan in plans:
            if plan.kind != "message":
                continue
            if plan.holders is not None:  # read by the send with the chat's members
                known.update(plan.holders)
            else:
                audience.update(plan.user_ids)
        if not audience:
            return known
        assert self.uows is not None
        async with self.uows.read() as uow:
            return known | await push_repo.device_holders(uow.session, audience)

    async def _plan_one(
        self, message: dict[str, Any], user_ids: Sequence[uuid.UUID], committed_at: float
    ) -> None:
        assert self.uows is not None and self._queue is not None
        sender_id = uuid.UUID(str(message["senderId"]))
        chat_id = uuid.UUID(str(message["chatId"]))
        others = set(user_ids) - {sender_id}
        if not others:
            return
        now = self._clock.now()
        async with self.uows.read() as uow:
            muted = await push_repo.muted_users(uow.session, chat_id, others, now)
            # A mention notifies even in a muted chat (issue 14).
            wanted = others - (muted - _mentioned(message))
            subs, tokens, live = await _devices(uow.session, wanted, now)
            if not subs and not tokens:
                return
            hide = await push_repo.hidden_text_users(uow.session, wanted)
            kind = await push_repo.chat_type(uow.session, chat_id)
            badges: dict[uuid.UUID, int | None] = {}
            for user_id in {s.user_id for s in subs} | {t.user_id for t in tokens}:
                state = await unread_state(uow.session, user_id, chat_id)
                badges[user_id] = state[1] if state is not None else None
        reachable = await self._reachable(live, now)
        topic = chat_topic(chat_id)
        shown: dict[uuid.UUID, dict[uuid.UUID, uuid.UUID]] = defaultdict(dict)

        def mark(target: _Sub | _Token) -> None:
            shown[target.user_id][target.id] = target.session_id

        for sub in filter(reachable, subs):
            payload = _payload(message, kind, topic, hidden=sub.user_id in hide)
            payload["unreadTotal"] = badges.get(sub.user_id)
            if self._enqueue(self._web_job(sub, payload, "high", topic, committed_at)):
                mark(sub)
        for token in filter(reachable, tokens):
            if self._fcm is None:
                if not self._fcm_off_logged:
                    self._fcm_off_logged = True
                    log.info("FCM is not configured: FCM tokens are kept, no FCM push is sent")
                break
            payload = _payload(message, kind, topic, hidden=token.user_id in hide)
            payload["unreadTotal"] = badges.get(token.user_id)
            fcm = _fcm_message(token.token, payload, self.settings.push_ttl_seconds)
            if self._enqueue(_Job("fcm", token.id, committed_at, fcm=fcm)):
                mark(token)
        # Marked when queued, before any later read of the chat is planned (one planner,
        # commit order), so that read finds the mark.
        for user_id, devices in shown.items():
            await self.marks.mark(user_id, chat_id, devices)

    async def _plan_read(
        self, marker: dict[str, Any], reader: uuid.UUID | None, committed_at: float
    ) -> None:
        """The member read a chat on the device of session ``reader``: one "read" push to
        each of their other devices that was shown the chat's notification (ADR 17)."""
        assert self.uows is not None
        user_id = uuid.UUID(str(marker["userId"]))
        chat_id = uuid.UUID(str(marker["chatId"]))
        now = self._clock.now()
        async with self.uows.read() as uow:
            state = await unread_state(uow.session, user_id, chat_id)
        if state is None or state[0] > 0:
            return  # read part of the way: the notification still says what is unread
        claimed = await self.marks.claim(user_id, chat_id)
        others = {device for device, session in claimed.items() if session != reader}
        if not others:
            return
        still = await self.marks.still_shown(others)
        unread_total = state[1]
        async with self.uows.read() as uow:
            subs, tokens, live = await _devices(uow.session, {user_id}, now, only=others)
        # A device on screen closes its notifications itself (web/src/push.ts).
        reachable = await self._reachable(live, now)
        topic = chat_topic(chat_id)
        for sub in filter(reachable, subs):
            must_show = must_show_every_push(sub.endpoint)
            if must_show and sub.id not in still and unread_total == 0:
                continue  # nothing true to show: WebKit would count a strike
            payload = read_payload(chat_id, unread_total, topic, must_show=must_show)
            # Low: not worth waking a phone on battery and mobile data for; the Topic
            # replaces the chat's message push if that one is still undelivered.
            self._enqueue(self._web_job(sub, payload, "low", topic, committed_at))
        if self._fcm is None:
            return
        for token in filter(reachable, tokens):
            payload = read_payload(chat_id, unread_total, topic, must_show=False)
            fcm = fcm_read_message(token.token, payload, self.settings.push_ttl_seconds)
            self._enqueue(_Job("fcm", token.id, committed_at, fcm=fcm))

    async def _plan_call(
        self, push: dict[str, Any], user_ids: Sequence[uuid.UUID], committed_at: float
    ) -> None:
        """A call ringing (or no longer ringing) for members with no visible device. A call
        is not a message: mutes do not silence it; it lives only as long as it rings."""
        assert self.uows is not None
        if not user_ids:
            return
        now = self._clock.now()
        async with self.uows.read() as uow:
            subs, tokens, live = await _devices(uow.session, set(user_ids), now)
        reachable = await self._reachable(live, now)
        topic = chat_topic(uuid.UUID(str(push["callId"])))  # call-ended replaces the ring
        ttl = max(1, math.ceil(self.settings.call_ring_seconds))
        for sub in filter(reachable, subs):
            self._enqueue(self._web_job(sub, push, "high", topic, committed_at, ttl=ttl))
        if self._fcm is None:
            return
        for token in filter(reachable, tokens):
            fcm = _fcm_call(token.token, push, ttl, topic)
            self._enqueue(_Job("fcm", token.id, committed_at, fcm=fcm))

    async def _reachable(
        self, live: set[uuid.UUID], now: datetime
    ) -> Callable[[_Sub | _Token], bool]:
        """Whether a device may be pushed to: its session is live and not on screen."""
        visible = await self.visibility.visible_sessions(live)

        def reachable(device: _Sub | _Token) -> bool:
            if device.session_id not in live or device.session_id in visible:
                return False
            expires = device.expires_at if isinstance(device, _Sub) else None
            return expires is None or expires > now

        return reachable

    def _web_job(
        self,
        sub: _Sub,
        payload: dict[str, Any],
        urgency: str,
        topic: str,
        committed_at: float,
        *,
        ttl: int | None = None,
    ) -> _Job:
        web = WebPushMessage(
            endpoint=sub.endpoint,
            p256dh=sub.p256dh,
            auth=sub.auth,
            payload=json.dumps(payload, ensure_ascii=False).encode(),
            ttl=self.settings.push_ttl_seconds if ttl is None else ttl,
            urgency=urgency,
            topic=topic,
        )
        return _Job("webpush", sub.id, committed_at, web=web)

    def _enqueue(self, job: _Job) -> bool:
        assert self._queue is not None
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self.metrics.skipped.inc()
            log.warning("push queue full: a push was skipped (the client syncs when opened)")
            return False
        return True

    # --- sending ----------------------------------------------------------------------

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            job = await self._queue.get()
            # One device's pushes leave in the order they were queued (a "read" push must
            # not overtake the message push it closes, even while that one is retried).
            # Taking a free lock does not yield, so the worker that dequeued first holds it.
            lock, users = self._sending.get(job.target_id, (asyncio.Lock(), 0))
            self._sending[job.target_id] = (lock, users + 1)
            try:
                async with lock:
                    await self._send(job)
            except Exception:
                log.exception("push send failed unexpectedly")
                self.metrics.failed.labels(job.kind).inc()
            finally:
                lock, users = self._sending[job.target_id]
                if users == 1:
                    del self._sending[job.target_id]
                else:
                    self._sending[job.target_id] = (lock, users - 1)
                self._queue.task_done()

    async def _send(self, job: _Job) -> None:
        if job.web is not None:
            assert self._web is not None
            outcome = await self._web.send(job.web)
        else:
            assert self._fcm is not None and job.fcm is not None
            outcome = await self._fcm.send(job.fcm)
        self.metrics.latency.labels(job.kind).observe(time.perf_counter() - job.committed_at)
        if outcome is Outcome.SENT:
            self.metrics.sent.labels(job.kind).inc()
            return
        self.metrics.failed.labels(job.kind).inc()
        if outcome is Outcome.GONE and self.uows is not None:
            async with self.uows.write() as uow:
                if job.kind == "webpush":
                    await push_repo.delete_subscription(uow.session, job.target_id)
                else:
                    await push_repo.delete_fcm_token(uow.session, job.target_id)
                await uow.commit()
            self.metrics.dropped.labels(job.kind).inc()

    async def _keep_visibility(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)  # a timer, not synchronisation
            try:
                await self.visibility.heartbeat()
            except Exception:
                log.warning("push visibility heartbeat failed", exc_info=True)


async def _devices(
    session: AsyncSession,
    user_ids: set[uuid.UUID],
    now: datetime,
    *,
    only: set[uuid.UUID] | None = None,
) -> tuple[list[_Sub], list[_Token], set[uuid.UUID]]:
    """The members' Web Push subscriptions and FCM tokens (``only`` those ids, when given)
    as plain values (the rows expire when the read transaction ends), and which of their
    sessions are live."""
    subs = [
        _Sub(s.id, s.user_id, s.session_id, s.endpoint, s.p256dh, s.auth, s.expires_at)
        for s in await push_repo.subscriptions_of(session, user_ids)
        if only is None or s.id in only
    ]
    tokens = [
        _Token(t.id, t.user_id, t.session_id, t.token)
        for t in await push_repo.fcm_tokens_of(session, user_ids)
        if only is None or t.id in only
    ]
    sessions = {s.session_id for s in subs} | {t.session_id for t in tokens}
    return subs, tokens, await tokens_repo.live_sessions(session, sessions, now)


FILE_ICONS = {"image": "📷", "video": "🎬", "voice": "🎤", "audio": "🎵", "file": "📎"}


def _payload(
    message: dict[str, Any], kind: str | None, topic: str, *, hidden: bool
) -> dict[str, Any]:
    sender = message.get("sender") or {}
    sender_name = str(sender.get("displayName") or sender.get("username") or "")
    chat = message.get("chat") or {}
    chat_name = str(chat.get("name") or "")
    title = sender_name if kind == "private" or not chat_name else f"{sender_name} · {chat_name}"
    text = str(message.get("content") or "")
    files = message.get("attachments") or []
    if files and message.get("caption"):
        # The content is the caption: say what comes with it ("📷 Our first snow"); without
        # one it already is "📷 Photo", "🎤 Voice message (0:12)", "📎 report.pdf".
        text = f"{FILE_ICONS.get(str(files[0].get('kind')), '📎')} {text}"
    if len(text) > MAX_BODY_CHARS:
        text = text[: MAX_BODY_CHARS - 1] + "…"
    return {
        "type": "message",
        "chatId": str(message["chatId"]),
        "chatName": chat_name,
        "messageId": str(message["id"]),
        "seq": message.get("seq"),
        "senderId": str(message["senderId"]),
        "senderName": sender_name,
        "title": title,
        "body": HIDDEN_TEXT if hidden else text,
        "hidden": hidden,
        "tag": topic,
        "url": f"/#/chat/{message['chatId']}",
    }


def _fcm_call(token: str, push: dict[str, Any], ttl: int, topic: str) -> dict[str, Any]:
    """A call for the seed's app: data it reads (``callId``, ``callerName``, ``callType``,
    ``remoteUserId``), at high priority, living as long as the call rings."""
    data = {k: str(v) for k, v in push.items() if v is not None}
    if "callerId" in data:
        data["remoteUserId"] = data["callerId"]
    return {
        "token": token,
        "data": data,
        "android": {"priority": "HIGH", "ttl": f"{ttl}s", "collapse_key": topic},
        "apns": {"headers": {"apns-collapse-id": topic, "apns-priority": "10"}},
    }


def _fcm_message(token: str, payload: dict[str, Any], ttl: int) -> dict[str, Any]:
    """An FCM HTTP v1 ``message``: a notification the system shows, collapsed per chat,
    and the same fields as data for the app (FCM data values are strings)."""
    return {
        "token": token,
        "notification": {"title": payload["title"], "body": payload["body"]},
        "data": {k: str(v) for k, v in payload.items() if v is not None},
        "android": {
            "priority": "HIGH",
            "ttl": f"{ttl}s",
            "collapse_key": payload["tag"],
            "notification": {"tag": payload["tag"]},
        },
        "apns": {"headers": {"apns-collapse-id": payload["tag"], "apns-priority": "10"}},
    }


class PushingNotifier:
    """The notifier, plus pushes for committed messages (after the events went out)."""

    def __init__(self, inner: Notifier, push: PushService) -> None:
        self._inner = inner
        self._push = push

    async def publish(self, events: Sequence[OutgoingEvent]) -> None:
        await self._inner.publish(events)
        try:
            self._push.committed(events)
        except Exception:  # a push is a wake-up: it never fails the use case
            log.exception("could not schedule pushes")

    async def disconnect_user(self, user_id: uuid.UUID) -> None:
        await self._inner.disconnect_user(user_id)

    async def disconnect_session(self, session_id: uuid.UUID) -> None:
        await self._inner.disconnect_session(session_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _mentioned(message: dict[str, Any]) -> set[uuid.UUID]:
    """Members a message mentions: they are told even in a chat they muted."""
    found: set[uuid.UUID] = set()
    for value in message.get("mentions") or ():
        try:
            found.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    return found
