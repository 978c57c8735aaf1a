/**
 * Catch-up after (re)connecting: everything the member missed while away.
 * Kept in one module so that a `GET /sync?since=` endpoint can replace it.
 */
import { api } from './api';
import { loadLatest, mergeSorted, settleOutbox } from './chats';
import { emitQuiet } from './realtime';
import { getState, setState } from './store';
import type { ChatOut, Id, MessageOut, UserOut } from './types';

const STEP = 200;
const MAX_PAGES = 5;

let running: Promise<void> | null = null;
const pendingChats = new Set<Id>();

export function catchUp(): Promise<void> {
  if (running) return running;
  running = (async () => {
    const [chats, users] = await Promise.all([
      api<ChatOut[]>('GET', '/chats'),
      api<UserOut[]>('GET', '/users').catch(() => null),
    ]);
    const me = getState().me;
    setState((s) => {
      const map: Record<Id, ChatOut> = {};
      for (const c of chats) map[c.id] = c;
      const messages: typeof s.messages = {};
      for (const id of Object.keys(s.messages)) if (map[id]) messages[id] = s.messages[id];
      const next: Partial<typeof s> = { chats: map, chatsLoaded: true, messages };
      if (users) {
        const um: Record<Id, UserOut> = {};
        for (const u of users) um[u.id] = u;
        next.users = um;
      }
      return next;
    });
    await Promise.all(chats.map((c) => catchUpChat(c.id)));
    // Tell the senders that their messages reached this device.
    for (const c of chats) {
      const mine = c.readStates?.find((r) => r.userId === me?.id);
      if (c.lastSeq > 0 && (!mine || mine.lastDeliveredSeq < c.lastSeq) && c.lastMessage?.senderId !== me?.id) {
        emitQuiet('markDelivered', { chatId: c.id, seq: c.lastSeq });
      }
    }
  })().finally(() => {
    running = null;
  });
  return running;
}

/** Fetch what is missing after the last loaded message of one chat. */
export async function catchUpChat(chatId: Id): Promise<void> {
  if (pendingChats.has(chatId)) return;
  pendingChats.add(chatId);
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const s = getState();
      const list = s.messages[chatId];
      const chat = s.chats[chatId];
      if (!list || !chat) return; // not opened yet: loaded when opened
      if (!list.length) {
        if (chat.lastSeq > 0) await loadLatest(chatId);
        return;
      }
      const known = list[list.length - 1].seq;
      if (chat.lastSeq <= known) return;
      const got = await api<MessageOut[]>('GET', `/messages/${chatId}?limit=${STEP}&after=${known}`);
      setState((st) => ({ messages: { ...st.messages, [chatId]: mergeSorted(st.messages[chatId] || [], got) } }));
      settleOutbox(got);
      if (got.length < STEP) return;
    }
    // Too far behind: start from the latest page instead.
    setState((st) => ({ messages: { ...st.messages, [chatId]: [] } }));
    await loadLatest(chatId);
  } finally {
    pendingChats.delete(chatId);
  }
}
