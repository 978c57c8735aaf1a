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

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = {};
  }
  const tag = data.tag || 'inner-circle';
  event.waitUntil(
    self.registration.getNotifications({ tag }).then((open) => {
      const before = open.length ? (open[0].data && open[0].data.count) || 1 : 0;
      const count = before + 1;
      const ru = (self.navigator.language || '').toLowerCase().startsWith('ru');
      let body = data.body || '';
      if (data.hidden) body = ru ? 'Новое сообщение' : 'New message';
      if (count > 1) body = (ru ? `${count} новых сообщений` : `${count} new messages`) + (data.hidden ? '' : ` · ${body}`);
      const options = {
        body,
        tag,
        renotify: true,
        icon: '/icons/icon-192.png',
        badge: '/icons/icon-192.png',
        timestamp: Date.now(),
        data: { url: data.url || '/', chatId: data.chatId || null, count },
      };
      if (self.navigator.setAppBadge) self.navigator.setAppBadge(count).catch(() => {});
      return self.registration.showNotification(data.title || 'Inner Circle', options);
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  const target = new URL(data.url || '/', self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      for (const w of windows) {
        if (new URL(w.url).origin === self.location.origin) {
          // An open window: tell it which chat to show, and bring it to the front.
          w.postMessage({ type: 'openChat', chatId: data.chatId, url: target });
          return w.focus().then((f) => (f && 'navigate' in f && !data.chatId ? f.navigate(target) : f));
        }
      }
      return self.clients.openWindow(target);
    }),
  );
});
