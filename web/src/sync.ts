/**
 * Catch-up after (re)connecting, through `GET /sync`: everything the member missed, in the
 * order the server made the changes, from the cursor stored with the cached state.
 *
 * - No cursor yet (a new device, or a cache from before /sync): a fresh start — every chat
 *   and its recent messages, and a cursor.
 * - A cursor: pages of events until `hasMore` is false; the cursor moves after each page,
 *   in the same state change as the page's events, so the cache never gets ahead of them.
 * - `reset` (the server does not know the cursor, e.g. restored from a backup): the local
 *   chats and messages are dropped and the fresh start that comes with it is used.
 *
 * Every event is applied idempotently (messages by id, in seq order; chats and users as
 * their current state), so live socket events that cross a sync change nothing twice.
 */
import { api } from './api';
import { ClientEvent } from './api/generated/events';
import {
  applyIncoming,
  applyReadMarker,
  applyUpdate,
  applyUser,
  mergeChat,
  mergeSorted,
  removeChat,
  settleOutbox,
  upsertChat,
} from './chats';
import { applyPin, applyReactions } from './rich';
import { emitQuiet } from './socket';
import { getState, setState, type State } from './store';
import type { ChatOut, Id, MessageOut, SyncEvent, SyncOut, UserOut } from './types';

const LIMIT = 500;
const MAX_PAGES = 200;

let running: Promise<void> | null = null;
let again = false;
/** Chats a live `chatRemoved` took away while a sync was on its way (its answer may predate it). */
const removedLive = new Set<Id>();
/** Chats a live `chatCreated` / `chatUpdated` brought while a sync was on its way: a fresh
 * start computed before it must not drop them. */
const addedLive = new Set<Id>();

/** Sync now; if one is running, once more after it. Resolves when the state is current. */
export function syncNow(): Promise<void> {
  if (running) {
    again = true;
    return running;
  }
  removedLive.clear();
  addedLive.clear();
  running = (async () => {
    do {
      again = false;
      await runSync();
    } while (again);
  })().finally(() => {
    running = null;
    removedLive.clear();
    addedLive.clear();
  });
  return running;
}

export function isSyncing(): boolean {
  return running !== null;
}

/** A live `chatRemoved`: a sync answer in flight must not bring the chat back. */
export function noteRemoved(chatId: Id): void {
  if (running) removedLive.add(chatId);
}

/** A live `chatCreated` / `chatUpdated`: the chat is mine again. */
export function noteChat(chatId: Id): void {
  removedLive.delete(chatId);
  if (running) addedLive.add(chatId);
}

async function runSync(): Promise<void> {
  const uid = getState().me?.id;
  if (!uid) return;
  // Presence is not in the change log: the family's list comes along (it is small).
  const users = api<UserOut[]>('GET', '/users').catch(() => null);
  for (let page = 0; page < MAX_PAGES; page++) {
    const since = getState().cursor;
    const res = await api<SyncOut>('GET', since === null ? `/sync?limit=${LIMIT}` : `/sync?since=${encodeURIComponent(String(since))}&limit=${LIMIT}`);
    if (getState().me?.id !== uid) return; // signed out (or switched) meanwhile
    if (res.chats) applyFresh(res, !!res.reset);
    else applyEvents(res.events || [], res.cursor);
    if (!res.hasMore) break;
  }
  const list = await users;
  if (list && getState().me?.id === uid) {
    setState((s) => {
      const um: Record<Id, UserOut> = {};
      for (const u of list) um[u.id] = u;
      return { users: um };
    });
  }
  markDeliveredAll();
}

/** A fresh start: the chats as they are now, their recent messages, and a cursor. */
function applyFresh(res: SyncOut, reset: boolean): void {
  const byChat: Record<Id, MessageOut[]> = {};
  for (const m of res.messages || []) (byChat[m.chatId] ||= []).push(m);
  setState((s) => {
    const chats: Record<Id, ChatOut> = {};
    const messages: State['messages'] = {};
    const hasOlder: State['hasOlder'] = {};
    for (const c of res.chats || []) {
      if (removedLive.has(c.id)) continue;
      chats[c.id] = reset ? c : mergeChat(s.chats[c.id], c);
      const fresh = (byChat[c.id] || []).sort((a, b) => a.seq - b.seq);
      const old = reset ? [] : s.messages[c.id] || [];
      const first = fresh[0]?.seq ?? c.lastSeq + 1;
      const lastOld = old.length ? old[old.length - 1].seq : -1;
      // What was cached stays when it joins up with the fresh part (more to read offline).
      const merged = old.length && first <= lastOld + 1 ? mergeSorted(old, fresh) : fresh;
      messages[c.id] = merged;
      hasOlder[c.id] = (merged[0]?.seq ?? 1) > 1;
    }
    for (const id of addedLive) {
      if (chats[id] || !s.chats[id] || removedLive.has(id)) continue;
      chats[id] = s.chats[id];
      messages[id] = s.messages[id] || [];
      hasOlder[id] = s.hasOlder[id] ?? (s.chats[id].lastSeq > messages[id].length);
    }
    return {
      chats,
      messages,
      hasOlder,
      chatsLoaded: true,
      cursor: res.cursor,
      ...(reset ? { typing: {} } : {}),
    };
  });
  settleOutbox(res.messages || []);
  const r = getState().route;
  if (r.name === 'chat' && !getState().chats[r.id]) removeChat(r.id); // gone: back to the list
}

/** One page of changes, in order; the cursor moves with the page's last state change. */
function applyEvents(events: SyncEvent[], cursor: string): void {
  // A chat's event carries its current state once per page (at its last change), and may
  // come after messages of the chat: chats first, so that those messages find it.
  const chatsInPage = new Set<Id>();
  for (const e of events) {
    if (e.type === 'chat' && e.chat && !removedLive.has(e.chat.id)) {
      chatsInPage.add(e.chat.id);
      upsertChat(e.chat);
    }
  }
  for (const e of events) {
    switch (e.type) {
      case 'message':
        if (e.message) applyIncoming(e.message);
        break;
      case 'messageUpdated':
        if (e.message) applyUpdate(e.message);
        break;
      case 'reactionsUpdated':
        if (e.message) applyReactions(e.message.chatId, e.message.id, e.message.reactions || []);
        break;
      case 'messagePinned':
      case 'messageUnpinned':
        if (e.message) applyPin(e.message);
        break;
      case 'chatRemoved':
        // A chat event in the same page means I am in it now (removed, then added back).
        if (e.chatId && !chatsInPage.has(e.chatId)) removeChat(e.chatId);
        break;
      case 'read':
      case 'delivered':
        if (e.chatId && e.userId && e.seq != null) applyReadMarker(e.chatId, e.userId, e.seq, e.type);
        break;
      case 'user':
        if (e.user) applyUser(e.user);
        break;
    }
  }
  setState({ cursor, chatsLoaded: true });
}

/** Tell the senders that their messages reached this device. */
function markDeliveredAll(): void {
  const s = getState();
  const me = s.me;
  if (!me) return;
  for (const c of Object.values(s.chats)) {
    const mine = c.readStates?.find((r) => r.userId === me.id);
    if (c.lastSeq > 0 && (!mine || mine.lastDeliveredSeq < c.lastSeq) && c.lastMessage?.senderId !== me.id) {
      emitQuiet(ClientEvent.MARK_DELIVERED, { chatId: c.id, seq: c.lastSeq });
    }
  }
}
