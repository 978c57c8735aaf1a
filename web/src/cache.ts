/**
 * Offline copy of what the member last saw: users, chats and the latest messages
 * of each chat, plus the outbox (messages not yet confirmed by the server).
 * Kept in this origin's localStorage, per user; small enough for a family.
 */
import { getState, subscribe, setState, type State } from './store';
import type { ChatOut, Id, MessageOut, OutboxItem, UserOut } from './types';

const KEEP_PER_CHAT = 60;

interface Snapshot {
  v: 1;
  users: Record<Id, UserOut>;
  chats: Record<Id, ChatOut>;
  messages: Record<Id, MessageOut[]>;
  /** The /sync cursor these chats and messages are current to (absent: from before /sync). */
  cursor?: string | number | null;
}

const cacheKey = (uid: Id) => `ic.cache.${uid}`;
const outboxKey = (uid: Id) => `ic.outbox.${uid}`;

export function restore(uid: Id): void {
  let snap: Snapshot | null = null;
  let outbox: OutboxItem[] = [];
  try {
    snap = JSON.parse(localStorage.getItem(cacheKey(uid)) || 'null');
    outbox = JSON.parse(localStorage.getItem(outboxKey(uid)) || '[]');
  } catch {
    /* a broken cache is simply ignored */
  }
  // Anything that was in flight when the page went away is queued again.
  outbox = outbox.map((o) => (o.state === 'sending' ? { ...o, state: 'queued' } : o));
  const hasOlder: Record<Id, boolean> = {};
  if (snap?.v === 1) {
    for (const [id, msgs] of Object.entries(snap.messages)) hasOlder[id] = (msgs[0]?.seq ?? 1) > 1;
    setState({
      users: snap.users,
      chats: snap.chats,
      messages: snap.messages,
      hasOlder,
      chatsLoaded: Object.keys(snap.chats).length > 0,
      // A string from the server; a number in caches from before epochs (still accepted).
      cursor: typeof snap.cursor === 'string' || typeof snap.cursor === 'number' ? snap.cursor : null,
      outbox,
    });
  } else {
    setState({ outbox, cursor: null });
  }
}

let timer: ReturnType<typeof setTimeout> | undefined;
let last: Pick<State, 'users' | 'chats' | 'messages' | 'outbox' | 'cursor'> | null = null;

function save(): void {
  const s = getState();
  if (!s.me) return;
  const uid = s.me.id;
  try {
    if (!last || last.outbox !== s.outbox) localStorage.setItem(outboxKey(uid), JSON.stringify(s.outbox));
    if (!last || last.users !== s.users || last.chats !== s.chats || last.messages !== s.messages || last.cursor !== s.cursor) {
      const messages: Record<Id, MessageOut[]> = {};
      for (const [id, msgs] of Object.entries(s.messages)) {
        if (s.chats[id]) messages[id] = msgs.slice(-KEEP_PER_CHAT);
      }
      // The cursor is written with the state it belongs to, never ahead of it.
      const snap: Snapshot = { v: 1, users: s.users, chats: s.chats, messages, cursor: s.cursor };
      localStorage.setItem(cacheKey(uid), JSON.stringify(snap));
    }
  } catch {
    /* storage full: the cache is a convenience only */
  }
  last = { users: s.users, chats: s.chats, messages: s.messages, outbox: s.outbox, cursor: s.cursor };
}

/** The outbox is written at once (it must survive a closed tab), the rest a moment later. */
export function startPersisting(): () => void {
  last = null;
  return subscribe(() => {
    const s = getState();
    if (last && s.outbox !== last.outbox) {
      try {
        if (s.me) localStorage.setItem(outboxKey(s.me.id), JSON.stringify(s.outbox));
        last = { ...last, outbox: s.outbox };
      } catch {
        /* ignore */
      }
    }
    clearTimeout(timer);
    timer = setTimeout(save, 800);
  });
}

export function flushCache(): void {
  clearTimeout(timer);
  save();
}

export function clearUserCache(uid: Id): void {
  localStorage.removeItem(cacheKey(uid));
  localStorage.removeItem(outboxKey(uid));
}

window.addEventListener('pagehide', () => flushCache());
