/**
 * REST client and the session (tokens). The refresh token lives in this origin's
 * localStorage; the access token is refreshed shortly before it expires and once
 * more on a 401, with one refresh in flight at a time (shared between tabs through
 * the storage, since a refresh rotates the token).
 */
import type { TokenPair, UserOut } from './types';

export interface Session {
  accessToken: string;
  refreshToken: string;
  /** epoch ms */
  expiresAt: number;
  user: UserOut;
}

const KEY = 'ic.session';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

let session: Session | null = load();
const sessionListeners = new Set<(s: Session | null) => void>();
let refreshing: Promise<Session | null> | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;

function load(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function getSession(): Session | null {
  return session;
}

export function onSession(fn: (s: Session | null) => void): () => void {
  sessionListeners.add(fn);
  return () => sessionListeners.delete(fn);
}

function setSession(s: Session | null, persist = true): void {
  session = s;
  if (persist) {
    if (s) localStorage.setItem(KEY, JSON.stringify(s));
    else localStorage.removeItem(KEY);
  }
  scheduleRefresh();
  for (const fn of sessionListeners) fn(s);
}

function fromPair(p: TokenPair): Session {
  return {
    accessToken: p.access_token,
    refreshToken: p.refresh_token,
    expiresAt: Date.now() + p.expires_in * 1000,
    user: p.user,
  };
}

export function updateSessionUser(user: UserOut): void {
  if (!session || session.user.id !== user.id) return;
  // Start from what is stored: another tab may have rotated the tokens meanwhile.
  const stored = load();
  const base = stored && stored.user.id === user.id ? stored : session;
  setSession({ ...base, user });
}

function scheduleRefresh(): void {
  clearTimeout(refreshTimer);
  if (!session) return;
  const inMs = Math.max(5_000, session.expiresAt - Date.now() - 60_000);
  refreshTimer = setTimeout(() => {
    if (navigator.onLine) void refresh().catch(() => undefined);
    else scheduleRefresh();
  }, Math.min(inMs, 2 ** 31 - 1));
}

// Another tab rotated the tokens or signed out.
window.addEventListener('storage', (e) => {
  if (e.key !== KEY) return;
  const s = load();
  if (s?.refreshToken !== session?.refreshToken) setSession(s, false);
});

/** Exchanges the refresh token for a new pair. Resolves null when the session is gone. */
export function refresh(): Promise<Session | null> {
  if (refreshing) return refreshing;
  const run = () => doRefresh(session?.refreshToken);
  // Tabs share the refresh token and a refresh rotates it: one tab at a time.
  refreshing = (
    navigator.locks ? navigator.locks.request('ic-refresh', run) : run()
  ).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function doRefresh(startedWith: string | undefined): Promise<Session | null> {
  if (!startedWith) return null;
  // A tab next door may have rotated it already.
  const stored = load();
  if (stored && stored.refreshToken !== startedWith) {
    setSession(stored, false);
    return stored;
  }
  let res: Response;
  try {
    res = await fetch('/auth/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: startedWith }),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'network');
  }
  if (res.ok) {
    const s = fromPair((await res.json()) as TokenPair);
    setSession(s);
    return s;
  }
  if (res.status === 401 || res.status === 403) {
    const again = load();
    if (again && again.refreshToken !== startedWith) {
      setSession(again, false);
      return again;
    }
    const err = await toError(res);
    lastSignOutReason = err.code;
    setSession(null);
    return null;
  }
  throw await toError(res);
}

/** Why the session ended without the member signing out (shown on the sign-in screen). */
export let lastSignOutReason: string | null = null;

async function toError(res: Response): Promise<ApiError> {
  let code = 'INTERNAL';
  let message = res.statusText;
  try {
    const body = await res.json();
    code = body.code || (res.status === 401 ? 'UNAUTHENTICATED' : code);
    message = body.message || message;
  } catch {
    if (res.status === 401) code = 'UNAUTHENTICATED';
    else if (res.status === 404) code = 'NOT_FOUND';
    else if (res.status === 429) code = 'RATE_LIMITED';
    else if (res.status === 413) code = 'PAYLOAD_TOO_LARGE';
    else if (res.status === 502 || res.status === 503 || res.status === 504) code = 'UNAVAILABLE';
  }
  return new ApiError(res.status, code, message);
}

/** Returns a fresh-enough access token, refreshing it first when it is about to expire. */
export async function accessToken(): Promise<string | null> {
  if (!session) return null;
  if (session.expiresAt - Date.now() < 30_000) {
    const s = await refresh();
    return s?.accessToken ?? null;
  }
  return session.accessToken;
}

export async function api<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
  const send = async (token: string | null) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'NETWORK', 'network');
    }
  };
  let res = await send(auth ? await accessToken() : null);
  if (res.status === 401 && auth && session) {
    const s = await refresh();
    if (!s) throw new ApiError(401, 'UNAUTHENTICATED', 'signed out');
    res = await send(s.accessToken);
  }
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function login(username: string, password: string): Promise<Session> {
  const pair = await api<TokenPair>('POST', '/auth/login', { username, password }, false);
  const s = fromPair(pair);
  setSession(s);
  return s;
}

export async function register(
  username: string,
  password: string,
  invitationCode: string,
  displayName?: string,
): Promise<void> {
  await api<UserOut>(
    'POST',
    '/users/register',
    { username, password, invitationCode, ...(displayName ? { displayName } : {}) },
    false,
  );
}

export async function logout(): Promise<void> {
  const s = session;
  lastSignOutReason = null;
  setSession(null);
  if (s) {
    try {
      await fetch('/auth/logout', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${s.accessToken}` },
        body: JSON.stringify({ refresh_token: s.refreshToken }),
      });
    } catch {
      /* offline: the token expires by itself */
    }
  }
}

/** Forget the session locally (e.g. after the account was deactivated). */
export function dropSession(reason?: string): void {
  lastSignOutReason = reason ?? null;
  setSession(null);
}

scheduleRefresh();
