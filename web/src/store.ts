/** A tiny global store: one immutable state object, subscribers, and a selector hook. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatOut, Id, MessageOut, OutboxItem, UserOut } from './types';

export type Route =
  | { name: 'list' }
  | { name: 'chat'; id: Id }
  | { name: 'settings' }
  | { name: 'admin' };

export type Conn = 'online' | 'connecting' | 'offline';

export interface TypingEntry {
  name: string;
  until: number;
}

export interface State {
  me: UserOut | null;
  users: Record<Id, UserOut>;
  chats: Record<Id, ChatOut>;
  chatsLoaded: boolean;
  /** Loaded messages of a chat, ascending by seq, without gaps. */
  messages: Record<Id, MessageOut[]>;
  /** Whether older pages exist beyond the first loaded message. */
  hasOlder: Record<Id, boolean>;
  loadingOlder: Record<Id, boolean>;
  outbox: OutboxItem[];
  /** Position in the server's change log after the last applied `/sync` page (null: none yet). */
  cursor: string | number | null;
  typing: Record<Id, Record<Id, TypingEntry>>;
  /** Pinned messages of a chat, the latest pin first (loaded when the chat opens). */
  pins: Record<Id, MessageOut[]>;
  /** A message to bring into view and highlight when its chat shows (a search result). */
  focus: { chatId: Id; seq: number } | null;
  conn: Conn;
  route: Route;
  toast: { text: string; id: number } | null;
}

export function parseRoute(hash = location.hash): Route {
  const m = /^#\/chat\/([\w-]+)/.exec(hash);
  if (m) return { name: 'chat', id: m[1] };
  if (hash.startsWith('#/settings')) return { name: 'settings' };
  if (hash.startsWith('#/admin')) return { name: 'admin' };
  return { name: 'list' };
}

export function routeHash(r: Route): string {
  switch (r.name) {
    case 'chat':
      return `#/chat/${r.id}`;
    case 'settings':
      return '#/settings';
    case 'admin':
      return '#/admin';
    default:
      return '#/';
  }
}

/** What belongs to the signed-in member: empty before sign-in and again after sign-out. */
export function signedOut(): Omit<State, 'conn' | 'route' | 'toast'> {
  return {
    me: null,
    users: {},
    chats: {},
    chatsLoaded: false,
    messages: {},
    hasOlder: {},
    loadingOlder: {},
    outbox: [],
    cursor: null,
    typing: {},
    pins: {},
    focus: null,
  };
}

let state: State = { ...signedOut(), conn: 'connecting', route: parseRoute(), toast: null };

const listeners = new Set<() => void>();
let scheduled = false;

export function getState(): State {
  return state;
}

export function setState(patch: Partial<State> | ((s: State) => Partial<State>)): void {
  const p = typeof patch === 'function' ? patch(state) : patch;
  state = { ...state, ...p };
  if (!scheduled) {
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      for (const fn of listeners) fn();
    });
  }
}

export function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Re-renders the component when the selected value changes (by identity). */
export function useStore<T>(select: (s: State) => T): T {
  const [, force] = useState(0);
  const sel = useRef(select);
  sel.current = select;
  const value = select(state);
  const last = useRef(value);
  last.current = value;
  useEffect(
    () =>
      subscribe(() => {
        const next = sel.current(state);
        if (!Object.is(next, last.current)) force((n) => n + 1);
      }),
    [],
  );
  return value;
}

export function navigate(r: Route, replace = false): void {
  const hash = routeHash(r);
  if (location.hash !== hash && !(hash === '#/' && location.hash === '')) {
    if (replace) history.replaceState(history.state, '', hash);
    else history.pushState({ inApp: true }, '', hash);
  }
  setState({ route: r });
}

/** Back within the app when we came from it, otherwise to the chat list. */
export function goBack(): void {
  if (history.state?.inApp) history.back();
  else navigate({ name: 'list' }, true);
}

window.addEventListener('popstate', () => setState({ route: parseRoute() }));
window.addEventListener('hashchange', () => setState({ route: parseRoute() }));

let toastSeq = 0;
export function toast(text: string): void {
  const id = ++toastSeq;
  setState({ toast: { text, id } });
  setTimeout(() => {
    if (getState().toast?.id === id) setState({ toast: null });
  }, 3500);
}
