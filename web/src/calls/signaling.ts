/**
 * The `/calls` Socket.IO namespace (docs/calls.md). Multiplexed over the chat socket's
 * connection, with the same auth: the current access token, `reauth` when it is
 * refreshed, a refresh and a new attempt when the server refuses it.
 */
import { io, type Socket } from 'socket.io-client';
import { accessToken, getSession, onSession, refresh } from '../api';
import { CallClientEvent, CallServerEvent, type CallClientEventName, type CallServerEventName } from '../api/generated/events';

let sock: Socket | null = null;
let stopReauth: (() => void) | undefined;
let retry: ReturnType<typeof setTimeout> | undefined;
const handlers = new Map<string, Set<(p: unknown) => void>>();
const connectHandlers = new Set<() => void>();

export class CallError extends Error {
  constructor(public code: string) {
    super(code);
  }
}

/** Subscribe to a `/calls` event for this connection and every later one. */
export function onCallEvent<T>(event: CallServerEventName, fn: (payload: T) => void): () => void {
  let set = handlers.get(event);
  if (!set) handlers.set(event, (set = new Set()));
  set.add(fn as (p: unknown) => void);
  sock?.on(event, fn);
  return () => {
    set.delete(fn as (p: unknown) => void);
    sock?.off(event, fn);
  };
}

/** Run `fn` after each (re)connect of the `/calls` socket. */
export function onCallConnect(fn: () => void): () => void {
  connectHandlers.add(fn);
  return () => connectHandlers.delete(fn);
}

/** Every `/calls` event is acked `{ok, error?}`; a refusal rejects with its code. */
export function emitCall<T = Record<string, unknown>>(event: CallClientEventName, payload: unknown, timeout = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    if (!sock?.connected) return reject(new CallError('NETWORK'));
    sock.timeout(timeout).emit(event, payload, (err: Error | null, res: { ok: boolean; error?: { code: string } }) => {
      if (err) return reject(new CallError('TIMEOUT'));
      if (!res?.ok) return reject(new CallError(res?.error?.code || 'INTERNAL'));
      resolve(res as T);
    });
  });
}

function again(delay: number): void {
  clearTimeout(retry);
  retry = setTimeout(() => {
    if (sock && !sock.connected && getSession()) sock.connect();
  }, delay);
}

export function startCallSocket(): void {
  if (sock) return;
  const s = io('/calls', {
    path: '/socket.io',
    transports: ['websocket', 'polling'],
    auth: (cb: (data: object) => void) => {
      accessToken()
        .then((token) => cb({ token }))
        .catch(() => cb({ token: getSession()?.accessToken }));
    },
  });
  sock = s;
  stopReauth = onSession((sess) => {
    if (sess && s.connected) s.emit(CallClientEvent.REAUTH, { token: sess.accessToken });
  });
  s.on('connect', () => {
    for (const fn of connectHandlers) fn();
  });
  s.on('disconnect', (reason) => {
    // Closed by the server (token expired, session ended): socket.io does not retry itself.
    if (reason === 'io server disconnect') void refresh().catch(() => undefined).finally(() => again(1000));
  });
  s.on('connect_error', () => {
    if (s.active) return; // a transport problem: the manager retries
    void refresh()
      .catch(() => undefined)
      .finally(() => again(3000));
  });
  s.on(CallServerEvent.ERROR, (p: { code?: string }) => {
    if (p?.code === 'TOKEN_INVALID' || p?.code === 'UNAUTHENTICATED') {
      s.disconnect();
      void refresh().finally(() => again(500));
    }
  });
  for (const [event, set] of handlers) for (const h of set) s.on(event, h);
}

export function stopCallSocket(): void {
  clearTimeout(retry);
  stopReauth?.();
  stopReauth = undefined;
  if (sock) {
    sock.removeAllListeners();
    sock.disconnect();
    sock = null;
  }
}
