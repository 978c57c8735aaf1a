/** The Socket.IO connection: auth, reconnect with backoff, and the server's pushes. */
import { io, type Socket } from 'socket.io-client';
import { accessToken, dropSession, getSession, onSession, refresh } from './api';
import { applyIncoming, applyReadMarker, applyUpdate, applyUser, flushOutbox, removeChat, upsertChat } from './chats';
import { getState, setState } from './store';
import { noteChat, noteRemoved, syncNow } from './sync';
import type { ChatOut, Id, MessageOut, Presence, ReadMarker, UserOut, UserTyping } from './types';

let socket: Socket | null = null;
let stopReauth: (() => void) | undefined;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let attempts = 0;
const lastMessageFrom = new Map<string, number>();

export function isConnected(): boolean {
  return !!socket?.connected;
}

function setConn(): void {
  const conn = socket?.connected ? 'online' : navigator.onLine ? 'connecting' : 'offline';
  if (getState().conn !== conn) setState({ conn });
}

export class AckError extends Error {
  constructor(
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

export function emitAck<T>(event: string, payload?: unknown, timeout = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    if (!socket?.connected) return reject(new AckError('NETWORK', 'not connected'));
    const cb = (err: Error | null, res: { ok: boolean; error?: { code: string; message: string } }) => {
      if (err) return reject(new AckError('TIMEOUT', 'no answer'));
      if (!res?.ok) return reject(new AckError(res?.error?.code || 'INTERNAL', res?.error?.message || ''));
      resolve(res as T);
    };
    if (payload === undefined) socket.timeout(timeout).emit(event, cb);
    else socket.timeout(timeout).emit(event, payload, cb);
  });
}

/** Fire and forget (read and delivery markers, typing); dropped while disconnected. */
export function emitQuiet(event: string, payload: unknown): void {
  if (socket?.connected) socket.emit(event, payload);
}

function backoff(): number {
  attempts++;
  const base = Math.min(30_000, 1000 * 2 ** Math.min(attempts, 5));
  return base / 2 + Math.random() * (base / 2);
}

function reconnectSoon(delay = backoff()): void {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(async () => {
    if (!socket || socket.connected || !getSession()) return;
    try {
      await accessToken();
    } catch {
      /* offline: socket.connect will fail and come back here */
    }
    socket?.connect();
  }, delay);
}

let syncRetry: ReturnType<typeof setTimeout> | undefined;

/** After every (re)connect: catch up through /sync, then send what is queued. */
function syncAfterConnect(s: Socket, delay = 2000): void {
  clearTimeout(syncRetry);
  void syncNow()
    .then(() => void flushOutbox())
    .catch(() => {
      // The catch-up failed (server busy, network): the queue goes out anyway, the
      // catch-up is tried again while this connection lasts.
      void flushOutbox();
      syncRetry = setTimeout(() => {
        if (socket === s && s.connected) syncAfterConnect(s, Math.min(delay * 2, 60_000));
      }, delay);
    });
}

export function startRealtime(): void {
  if (socket) return;
  socket = io({
    path: '/socket.io',
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
    auth: (cb: (data: object) => void) => {
      accessToken()
        .then((token) => cb({ token }))
        .catch(() => cb({ token: getSession()?.accessToken }));
    },
    autoConnect: navigator.onLine,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10_000,
    randomizationFactor: 0.5,
  });
  const s = socket;
  // The server closes a connection when its access token expires; a refreshed token
  // extends the live one instead (`reauth`), so a refresh costs no reconnect.
  stopReauth = onSession((sess) => {
    if (sess && s.connected) s.emit('reauth', { token: sess.accessToken });
  });

  s.on('connect', () => {
    attempts = 0;
    // A connection counts as on screen until told otherwise (push notifications skip it).
    if (document.hidden) s.emit('visibility', { hidden: true });
    setConn();
    syncAfterConnect(s);
  });
  s.on('disconnect', (reason) => {
    setConn();
    // The server closed it (e.g. the token expired): socket.io does not retry by itself.
    if (reason === 'io server disconnect') {
      void refresh()
        .catch(() => undefined)
        .finally(() => reconnectSoon(500));
    }
  });
  s.on('connect_error', async (err: Error & { data?: { code?: string } }) => {
    setConn();
    if (s.active) return; // a transport problem: the manager retries with backoff
    // Refused by the server: most likely the access token. Refresh and try again.
    const code = err.data?.code || '';
    if (code === 'ACCOUNT_DEACTIVATED') {
      dropSession(code);
      return;
    }
    try {
      const sess = await refresh();
      if (!sess) return; // signed out
    } catch {
      /* offline */
    }
    reconnectSoon();
  });

  s.on('messageReceived', (m: MessageOut) => {
    applyIncoming(m, { fromPush: true });
    // A message ends its sender's typing; a late "typing" that the server handled after
    // the message (events are processed concurrently) is ignored for a moment.
    lastMessageFrom.set(`${m.chatId}:${m.senderId}`, Date.now());
    const forChat = getState().typing[m.chatId];
    if (forChat?.[m.senderId]) {
      const rest = { ...forChat };
      delete rest[m.senderId];
      setState((st) => ({ typing: { ...st.typing, [m.chatId]: rest } }));
    }
  });
  s.on('messageSent', (m: MessageOut) => applyIncoming(m));
  s.on('messageUpdated', (m: MessageOut) => applyUpdate(m));
  const onChat = (c: ChatOut) => {
    noteChat(c.id);
    upsertChat(c);
  };
  s.on('chatCreated', onChat);
  s.on('chatUpdated', onChat);
  s.on('chatRemoved', (p: { chatId: Id }) => {
    noteRemoved(p.chatId);
    removeChat(p.chatId);
  });
  s.on('presence', (p: Presence) => {
    const u = getState().users[p.userId];
    if (u) setState((st) => ({ users: { ...st.users, [p.userId]: { ...u, isOnline: p.isOnline, lastSeenAt: p.lastSeenAt } } }));
  });
  s.on('userJoined', (u: UserOut) => applyUser(u));
  s.on('userUpdated', (u: UserOut) => applyUser(u));
  s.on('userTyping', (p: UserTyping) => {
    const st = getState();
    if (st.me && p.userId === st.me.id) return;
    if (p.isTyping && Date.now() - (lastMessageFrom.get(`${p.chatId}:${p.userId}`) ?? 0) < 1500) return;
    const forChat = { ...(st.typing[p.chatId] || {}) };
    if (p.isTyping) forChat[p.userId] = { name: p.displayName || p.username, until: Date.now() + 6000 };
    else delete forChat[p.userId];
    setState({ typing: { ...st.typing, [p.chatId]: forChat } });
  });
  s.on('messagesRead', (p: ReadMarker) => applyReadMarker(p.chatId, p.userId, p.seq, 'read'));
  s.on('messagesDelivered', (p: ReadMarker) => applyReadMarker(p.chatId, p.userId, p.seq, 'delivered'));
  s.on('error', (p: { code?: string; message?: string; event?: string }) => {
    if (p?.code === 'TOKEN_INVALID' || p?.code === 'UNAUTHENTICATED') {
      void refresh().then(() => {
        s.disconnect();
        reconnectSoon(200);
      });
    }
  });
  setConn();
}

export function stopRealtime(): void {
  clearTimeout(retryTimer);
  clearTimeout(syncRetry);
  stopReauth?.();
  stopReauth = undefined;
  if (socket) {
    socket.removeAllListeners();
    socket.disconnect();
    socket = null;
  }
  setState({ conn: 'connecting' });
}

window.addEventListener('online', () => {
  setConn();
  if (socket && !socket.connected) {
    attempts = 0;
    reconnectSoon(50);
  }
});
// The device says it lost the network: drop the socket now rather than wait for a
// ping timeout, so that new messages go to the outbox at once.
window.addEventListener('offline', () => {
  if (socket?.connected) {
    socket.disconnect();
    // disconnect() is final for socket.io: 'online' connects again.
  }
  setConn();
});

// Typing indicators expire without a refresh.
setInterval(() => {
  const { typing } = getState();
  const now = Date.now();
  let changed = false;
  const next: typeof typing = {};
  for (const [chatId, users] of Object.entries(typing)) {
    const kept: (typeof typing)[string] = {};
    for (const [uid, e] of Object.entries(users)) {
      if (e.until > now) kept[uid] = e;
      else changed = true;
    }
    next[chatId] = kept;
  }
  if (changed) setState({ typing: next });
}, 1000);
