/* Inner Circle service worker: keeps the app shell so the app opens offline.
// The server answers with 'Vary: Origin', and a module script's request carries an Origin
// header while the precache's did not: every lookup ignores Vary.
   Chats and messages are kept by the app itself (localStorage), not here;
   API and Socket.IO requests always go to the network. */
const BUILD = '__BUILD_ID__';
const CACHE = `ic-shell-${BUILD}`;
const PRECACHE = ['/', '/manifest.webmanifest', '/icons/icon.svg', '/icons/icon-192.png', '/icons/icon-512.png'].concat(
  __PRECACHE__.map((f) => '/' + f),
);

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((u) => new Request(u, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('ic-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isShellPath(path) {
  return path === '/' || path.startsWith('/join/');
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;

  // The page itself: network first (fresh deploys), the cached shell when offline.
  if (req.mode === 'navigate' && isShellPath(url.pathname)) {
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            caches.open(CACHE).then((c) => c.put('/', copy));
          }
          return res;
        })
        .catch(() => caches.match('/', { ignoreVary: true, ignoreSearch: true }).then((r) => r || Response.error())),
    );
    return;
  }

  // Hashed build files never change: cache first.
  if (url.pathname.startsWith('/assets/') || url.pathname.startsWith('/icons/') || url.pathname === '/manifest.webmanifest') {
    event.respondWith(
      caches.match(req, { ignoreVary: true }).then(
        (hit) =>
          hit ||
          fetch(req).then((res) => {
            if (res.ok) {
              const copy = res.clone();
              caches.open(CACHE).then((c) => c.put(req, copy));
            }
            return res;
          }),
      ),
    );
  }
  // Everything else (the API, /socket.io) is not touched.
});

// --- push notifications (docs/push.md) ---------------------------------------------------
// A push is only a wake-up: it carries enough to show a notification (or "New message"
// when the member hid message text); the app syncs the real messages when it opens.
// Several messages in one chat collapse into one notification (tag = chat) that counts them.
// Kinds: "message", "read" (the chat was read on another device, ADR 17), "call" and
// "call-ended" (incoming calls).

const ICON = '/icons/icon-192.png';
const SUMMARY_TAG = 'ic-unread';
const RING_VIBRATION = [500, 250, 500, 250, 500, 250, 500];
// WebKit's push service: every push must show a notification there (three strikes and the
// subscription is gone), so pushes that would only close one show something true instead.
const MUST_SHOW_HOST = /\.push\.apple\.com$/;

// The sender's avatar as the notification's icon: their initials on their colour, drawn
// here as the app draws them (web/src/ui.tsx Avatar; members have no pictures), from the
// push's senderId and senderName: no image is fetched, and the browser's own fonts draw
// any alphabet. Without OffscreenCanvas (older browsers) the app's icon stays.
const AVATAR_SIZE = 192;
const AVATAR_COLOURS = ['#c2185b', '#7b1fa2', '#3949ab', '#00796b', '#2e7d32', '#b04a00', '#5d4037', '#01699f'];

function hashIndex(id, n) {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % n;
}

function initials(name) {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = [...(parts[0] || '?')][0] || '?';
  const second = parts.length > 1 ? [...parts[parts.length - 1]][0] || '' : '';
  return (first + second).toUpperCase();
}

function avatarIcon(id, name) {
  if (!id || !name || typeof OffscreenCanvas === 'undefined') return Promise.resolve(ICON);
  try {
    const half = AVATAR_SIZE / 2;
    const canvas = new OffscreenCanvas(AVATAR_SIZE, AVATAR_SIZE);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = AVATAR_COLOURS[hashIndex(String(id), AVATAR_COLOURS.length)];
    ctx.beginPath();
    ctx.arc(half, half, half, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = '#fff';
    ctx.font = `600 ${Math.round(AVATAR_SIZE * 0.4)}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(initials(String(name)), half, half);
    return canvas
      .convertToBlob({ type: 'image/png' })
      .then((blob) => blob.arrayBuffer())
      .then((buffer) => {
        const bytes = new Uint8Array(buffer);
        let text = '';
        for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
        return `data:image/png;base64,${btoa(text)}`;
      })
      .catch(() => ICON);
  } catch (e) {
    return Promise.resolve(ICON);
  }
}

function ru() {
  return (self.navigator.language || '').toLowerCase().startsWith('ru');
}

function say(en, ruText) {
  return ru() ? ruText : en;
}

function setBadge(total) {
  const nav = self.navigator;
  if (typeof total !== 'number') return Promise.resolve();
  if (total > 0 && nav.setAppBadge) return nav.setAppBadge(total).catch(() => {});
  if (total <= 0 && nav.clearAppBadge) return nav.clearAppBadge().catch(() => {});
  return Promise.resolve();
}

function mustShowEveryPush() {
  return self.registration.pushManager
    .getSubscription()
    .then((sub) => !!sub && MUST_SHOW_HOST.test(new URL(sub.endpoint).hostname))
    .catch(() => false);
}

// A quiet notification in place of the closed ones: what is still unread, or (the member
// dismissed the rest, nothing is unread) that the chat was read elsewhere.
function quietSummary(total) {
  const unread = say(`${total} unread message${total === 1 ? '' : 's'}`, `Непрочитанных сообщений: ${total}`);
  return self.registration.showNotification('Inner Circle', {
    body: total > 0 ? unread : say('Read on another device', 'Прочитано на другом устройстве'),
    tag: SUMMARY_TAG,
    silent: true,
    icon: ICON,
    badge: ICON,
    data: { url: '/', chatId: null },
  });
}

function showMessage(data) {
  const tag = data.tag || 'inner-circle';
  return Promise.all([self.registration.getNotifications({ tag }), avatarIcon(data.senderId, data.senderName)]).then(([open, icon]) => {
    const before = open.length ? (open[0].data && open[0].data.count) || 1 : 0;
    const count = before + 1;
    let body = data.body || '';
    if (data.hidden) body = say('New message', 'Новое сообщение');
    if (count > 1) body = say(`${count} new messages`, `${count} новых сообщений`) + (data.hidden ? '' : ` · ${body}`);
    const options = {
      body,
      tag,
      renotify: true,
      icon,
      badge: ICON,
      timestamp: Date.now(),
      data: { url: data.url || '/', chatId: data.chatId || null, count },
    };
    return Promise.all([
      setBadge(typeof data.unreadTotal === 'number' ? data.unreadTotal : count),
      self.registration.getNotifications({ tag: SUMMARY_TAG }).then((ns) => ns.forEach((n) => n.close())),
      self.registration.showNotification(data.title || 'Inner Circle', options),
    ]);
  });
}

// The chat was read on another device: its notifications go, the badge follows.
function closeRead(data) {
  return self.registration.getNotifications().then((all) => {
    const ofChat = (n) => (n.data && n.data.chatId === data.chatId && n.data.kind !== 'call') || n.tag === SUMMARY_TAG;
    all.filter(ofChat).forEach((n) => n.close());
    const left = all.filter((n) => !ofChat(n));
    const badge = setBadge(data.unreadTotal);
    if (!data.mustShow) return badge;
    // Show something true: another chat's notification again, unchanged and silent (never
    // a ringing call's: it would lose its buttons), or a quiet summary.
    const keep = left.filter((n) => !(n.data && n.data.kind === 'call')).pop();
    const shown = keep
      ? self.registration.showNotification(keep.title, {
          body: keep.body,
          tag: keep.tag,
          icon: keep.icon,
          badge: keep.badge,
          timestamp: keep.timestamp,
          data: keep.data,
          silent: true,
        })
      : quietSummary(data.unreadTotal || 0);
    return Promise.all([badge, shown]);
  });
}

function callTag(callId) {
  return `call-${callId}`;
}

function callUrl(callId) {
  return `/?call=${encodeURIComponent(callId)}`;
}

function isExpired(data) {
  const at = Date.parse((data && data.expiresAt) || '');
  return !Number.isNaN(at) && at <= Date.now();
}

// The ring stopped (answered elsewhere, declined, cancelled, timed out): a missed call says
// so; otherwise the notification just goes (or, where every push must show, says why).
function endCall(callId, status, data, mustShow) {
  return self.registration.getNotifications({ tag: callTag(callId) }).then((open) => {
    const call = (open[0] && open[0].data) || data || {};
    const video = call.callType === 'video';
    let body = null;
    if (status === 'missed') body = video ? say('Missed video call', 'Пропущенный видеозвонок') : say('Missed voice call', 'Пропущенный звонок');
    else if (mustShow) body = say('Call ended', 'Звонок завершён');
    if (!body) {
      open.forEach((n) => n.close());
      return undefined;
    }
    // Shown under the ring's tag, it replaces the ring. Closing the ring first raced with
    // this show in Chromium (the close, asynchronous, was seen to take the new one too).
    return self.registration.showNotification(call.callerName || 'Inner Circle', {
      body,
      tag: callTag(callId),
      silent: true,
      icon: ICON,
      badge: ICON,
      data: { kind: 'missed-call', url: call.chatId ? `/#/chat/${call.chatId}` : '/', chatId: call.chatId || null },
    });
  });
}

function ring(data) {
  if (isExpired(data)) return endCall(data.callId, 'missed', data, true); // arrived too late
  const video = data.callType === 'video';
  const options = {
    body: video ? say('Incoming video call', 'Входящий видеозвонок') : say('Incoming voice call', 'Входящий звонок'),
    tag: callTag(data.callId),
    renotify: true,
    requireInteraction: true,
    vibrate: RING_VIBRATION,
    icon: ICON,
    badge: ICON,
    timestamp: Date.now(),
    actions: [
      { action: 'accept', title: say('Accept', 'Принять') },
      { action: 'decline', title: say('Decline', 'Отклонить') },
    ],
    data: {
      kind: 'call',
      callId: data.callId,
      callType: data.callType,
      callerId: data.callerId,
      callerName: data.callerName,
      chatId: data.chatId || null,
      expiresAt: data.expiresAt,
      url: callUrl(data.callId),
    },
  };
  // The push event ends once the notification shows. Holding it until the call would ring
  // out was seen to hold up later pushes to this worker in Chromium (a second call's ring
  // never showed), and a message behind a ring would wait: the calls server's "call-ended" push (status missed at the
  // timeout) stops the ring, and any later event sweeps calls left ringing.
  return avatarIcon(data.callerId, data.callerName).then((icon) =>
    self.registration.showNotification(data.callerName || 'Inner Circle', { ...options, icon }),
  );
}

function sweepExpiredCalls() {
  return self.registration
    .getNotifications()
    .then((all) =>
      Promise.all(all.filter((n) => n.data && n.data.kind === 'call' && isExpired(n.data)).map((n) => endCall(n.data.callId, 'missed', null, false))),
    );
}

function handlePush(data) {
  if (data.type === 'read') return closeRead(data);
  if (data.type === 'call') return ring(data);
  if (data.type === 'call-ended') {
    return mustShowEveryPush().then((must) => endCall(data.callId, data.status, null, must));
  }
  return showMessage(data);
}

// Pushes are handled one at a time: each reads what is shown before changing it (a chat's
// count, a ring), and Chromium was seen to keep only one of two notifications shown at the
// same moment by two push events.
let pushes = Promise.resolve();

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = {};
  }
  const handled = pushes.then(sweepExpiredCalls).then(() => handlePush(data));
  pushes = handled.catch(() => undefined);
  event.waitUntil(handled);
});

function focusOrOpen(target, message) {
  return self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
    for (const w of windows) {
      if (new URL(w.url).origin === self.location.origin) {
        // An open window: bring it to the front there (a chat: the app switches to it; a
        // call: the page loads at /?call=<id>, which the app answers).
        if (message) w.postMessage(message);
        const focused = w.focus().catch(() => w); // focusing needs the tap's activation
        return focused.then((f) => (!message && 'navigate' in (f || w) ? (f || w).navigate(target) : f));
      }
    }
    return self.clients.openWindow(target);
  });
}

function declineCall(callId) {
  // The seed-compatible public route: the call id is the capability, no token needed.
  return fetch('/calls/public/respond', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ callId, action: 'reject' }),
    credentials: 'omit',
  }).catch(() => undefined);
}

self.addEventListener('notificationclick', (event) => {
  const data = event.notification.data || {};
  event.notification.close();
  if (data.kind === 'call') {
    if (event.action === 'decline') {
      event.waitUntil(declineCall(data.callId));
      return;
    }
    // Accept, or a tap on the notification: the app at the call (a rung-out call: its chat).
    const url = isExpired(data) ? (data.chatId ? `/#/chat/${data.chatId}` : '/') : data.url;
    event.waitUntil(focusOrOpen(new URL(url, self.location.origin).href, null));
    return;
  }
  const target = new URL(data.url || '/', self.location.origin).href;
  event.waitUntil(focusOrOpen(target, data.chatId ? { type: 'openChat', chatId: data.chatId, url: target } : null));
});
