/**
 * The Socket.IO connection, as a leaf: auth with the current access token, reconnect with
 * backoff, refresh + reconnect when the server refuses the token, the connection state.
 * It knows nothing of chats or sync: the modules that care subscribe (`onEvent`,
 * `onConnect`) and emit (`emitAck`, `emitQuiet`). realtime.ts wires the pushes to the state.
 */
import { io, type Socket } from 'socket.io-client';
import { accessToken, dropSession, getSession, onSession, refresh } from './api';
import { ClientEvent, ServerEvent, type ClientEventName, type ServerEventName } from './api/generated/events';
import { getState, setState } from './store';

let socket: Socket | null = null;
let stopReauth: (() => void) | undefined;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let attempts = 0;

/** A subscriber states the payload type it expects (see api/generated/events.ts). */
type Handler = (payload: unknown) => void;
const handlers = new Map<string, Set<Handler>>();
/** Called on every (re)connect with a test that stays true while that connection lasts. */
const connectHandlers = new Set<(current: () => boolean) => void>();

export function isConnected(): boolean {
  return !!socket?.connected;
}

/** Subscribe to a server event, for this connection and every later one. */
export function onEvent<T>(event: ServerEventName, fn: (payload: T) => void): () => void {
  const h = fn as Handler;
  let set = handlers.get(event);
  if (!set) handlers.set(event, (set = new Set()));
  set.add(h);
  socket?.on(event, h);
  return () => {
    set.delete(h);
    socket?.off(event, h);
  };
}

/** Run `fn` after each successful (re)connect; `current()` says whether it is still up. */
export function onConnect(fn: (current: () => boolean) => void): () => void {
  connectHandlers.add(fn);
  return () => connectHandlers.delete(fn);
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

export function emitAck<T>(event: ClientEventName, payload?: unknown, timeout = 10_000): Promise<T> {
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
export function emitQuiet(event: ClientEventName, payload: unknown): void {
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

export function startSocket(): void {
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
    if (sess && s.connected) s.emit(ClientEvent.REAUTH, { token: sess.accessToken });
  });

  s.on('connect', () => {
    attempts = 0;
    setConn();
    const current = () => socket === s && s.connected;
    for (const fn of connectHandlers) fn(current);
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
  for (const [event, set] of handlers) for (const h of set) s.on(event, h);
  s.on(ServerEvent.ERROR, (p: { code?: string; message?: string; event?: string }) => {
    if (p?.code === 'TOKEN_INVALID' || p?.code === 'UNAUTHENTICATED') {
      void refresh().then(() => {
        s.disconnect();
        reconnectSoon(200);
      });
    }
  });
  setConn();
}

export function stopSocket(): void {
  clearTimeout(retryTimer);
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
