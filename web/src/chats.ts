/** Chat and message state changes: merging pages, incoming messages, read states, the outbox. */
import { api, dropSession, updateSessionUser } from './api';
import { ClientEvent } from './api/generated/events';
import { emitAck, emitQuiet, isConnected } from './socket';
import { getState, navigate, setState, type State } from './store';
import type { ChatOut, Id, MemberReadState, MessageOut, OutboxItem, UserOut } from './types';

export const PAGE = 50;

export function sortedChats(chats: Record<Id, ChatOut>): ChatOut[] {
  const key = (c: ChatOut) => c.lastMessage?.createdAt || c.updatedAt || c.createdAt;
  return Object.values(chats).sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
}

/** Whether `next` is the same or a later state of the message than `prev` (edits, deletion). */
export function isFresher(prev: MessageOut, next: MessageOut): boolean {
  return Date.parse(next.updatedAt) >= Date.parse(prev.updatedAt);
}

/**
 * Merge messages into a list sorted by seq, one entry per message id; of two states of
 * one message the later (`updatedAt`) wins, so applying anything twice changes nothing.
 */
export function mergeSorted(list: MessageOut[], add: MessageOut[]): MessageOut[] {
  if (!add.length) return list;
  const byId = new Map<Id, MessageOut>();
  for (const m of list) byId.set(m.id, m);
  let changed = false;
  for (const m of add) {
    const old = byId.get(m.id);
    if (old && (old === m || !isFresher(old, m) || sameState(old, m))) continue;
    byId.set(m.id, m);
    changed = true;
  }
  if (!changed) return list;
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

function sameState(a: MessageOut, b: MessageOut): boolean {
  return a.updatedAt === b.updatedAt && a.content === b.content && a.deletedAt === b.deletedAt;
}

/** A chat's new state, keeping what we already know to be newer (a message pushed meanwhile). */
export function mergeChat(old: ChatOut | undefined, chat: ChatOut): ChatOut {
  if (!old) return chat;
  let merged =
    old.lastSeq > chat.lastSeq
      ? { ...chat, lastSeq: old.lastSeq, lastMessage: old.lastMessage, unreadCount: old.unreadCount }
      : chat;
  // The same last message in a later state (edited or deleted meanwhile) stays.
  if (old.lastMessage && merged.lastMessage?.id === old.lastMessage.id && !isFresher(old.lastMessage, merged.lastMessage))
    merged = { ...merged, lastMessage: old.lastMessage };
  // Read positions only move forward.
  if (old.lastReadSeq > merged.lastReadSeq)
    merged = {
      ...merged,
      lastReadSeq: old.lastReadSeq,
      unreadCount: old.lastReadSeq >= merged.lastSeq ? 0 : Math.min(merged.unreadCount, old.unreadCount),
    };
  let readStates = merged.readStates || [];
  for (const r of old.readStates || [])
    if (merged.participantIds?.includes(r.userId)) readStates = setReadState({ ...merged, readStates }, r.userId, r);
  return readStates === merged.readStates ? merged : { ...merged, readStates };
}

export function upsertChat(chat: ChatOut): void {
  const me = getState().me;
  if (me && chat.participantIds && !chat.participantIds.includes(me.id)) {
    removeChat(chat.id);
    return;
  }
  setState((s) => {
    const old = s.chats[chat.id];
    const merged = mergeChat(old, chat);
    const next: Partial<State> = { chats: { ...s.chats, [chat.id]: merged } };
    // A new, empty chat: its messages can be kept from the first one on.
    if (!old && !s.messages[chat.id] && chat.lastSeq === 0) next.messages = { ...s.messages, [chat.id]: [] };
    return next;
  });
}

/** A member joined, or their profile or status changed (me included). */
export function applyUser(u: UserOut): void {
  const st = getState();
  if (st.me && u.id === st.me.id) {
    if (!u.isActive) {
      dropSession('ACCOUNT_DEACTIVATED');
      return;
    }
    setState({ me: u });
    updateSessionUser(u);
  } else {
    setState((x) => ({ users: { ...x.users, [u.id]: u } }));
  }
}

export function removeChat(chatId: Id): void {
  setState((s) => {
    const chats = { ...s.chats };
    delete chats[chatId];
    const messages = { ...s.messages };
    delete messages[chatId];
    return { chats, messages, outbox: s.outbox.filter((o) => o.chatId !== chatId) };
  });
  const r = getState().route;
  if (r.name === 'chat' && r.id === chatId) navigate({ name: 'list' }, true);
}

function setReadState(chat: ChatOut, userId: Id, patch: Partial<MemberReadState>): MemberReadState[] {
  const states = chat.readStates || [];
  const i = states.findIndex((r) => r.userId === userId);
  const base: MemberReadState = i >= 0 ? states[i] : { userId, lastReadSeq: 0, lastDeliveredSeq: 0 };
  const next: MemberReadState = {
    ...base,
    lastReadSeq: Math.max(base.lastReadSeq, patch.lastReadSeq ?? 0),
    lastDeliveredSeq: Math.max(base.lastDeliveredSeq, patch.lastDeliveredSeq ?? 0, patch.lastReadSeq ?? 0),
  };
  if (i >= 0 && next.lastReadSeq === base.lastReadSeq && next.lastDeliveredSeq === base.lastDeliveredSeq)
    return states;
  const out = states.slice();
  if (i >= 0) out[i] = next;
  else out.push(next);
  return out;
}

export function applyReadMarker(chatId: Id, userId: Id, seq: number, kind: 'read' | 'delivered'): void {
  setState((s) => {
    const chat = s.chats[chatId];
    if (!chat) return {};
    const readStates = setReadState(
      chat,
      userId,
      kind === 'read' ? { lastReadSeq: seq } : { lastDeliveredSeq: seq },
    );
    let next: ChatOut = readStates === chat.readStates ? chat : { ...chat, readStates };
    if (kind === 'read' && s.me && userId === s.me.id && seq > chat.lastReadSeq) {
      // Read on another device of mine.
      const unread = (s.messages[chatId] || []).filter((m) => m.seq > seq && m.senderId !== s.me!.id).length;
      const mentions = (s.messages[chatId] || []).filter((m) => m.seq > seq && !m.deletedAt && m.mentions?.includes(s.me!.id)).length;
      next = {
        ...next,
        lastReadSeq: seq,
        unreadCount: seq >= chat.lastSeq ? 0 : Math.min(chat.unreadCount, unread),
        unreadMentions: seq >= chat.lastSeq ? 0 : Math.min(chat.unreadMentions ?? 0, mentions),
      };
    }
    return next === chat ? {} : { chats: { ...s.chats, [chatId]: next } };
  });
}

/** A message arrived (pushed, acknowledged, fetched or from /sync). Idempotent. */
export function applyIncoming(msg: MessageOut, opts: { fromPush?: boolean } = {}): void {
  const s = getState();
  const me = s.me;
  const chat = s.chats[msg.chatId];
  if (!chat) {
    // A chat we do not know yet: fetch it.
    void api<ChatOut>('GET', `/chats/${msg.chatId}`)
      .then((c) => upsertChat(c))
      .catch(() => undefined);
    return;
  }
  const mine = me && msg.senderId === me.id;
  const list = s.messages[msg.chatId];
  let gap = false;
  let messages = s.messages;
  let hasOlder = s.hasOlder;
  if (list) {
    const lastSeq = list.length ? list[list.length - 1].seq : 0;
    if (!list.length) {
      // The first one loaded; any older ones come with scrolling up.
      messages = { ...s.messages, [msg.chatId]: [msg] };
      if (msg.seq > 1) hasOlder = { ...s.hasOlder, [msg.chatId]: true };
    } else if (msg.seq === lastSeq + 1) {
      // The next one (the usual case): append.
      messages = { ...s.messages, [msg.chatId]: list.concat(msg) };
    } else if (msg.seq <= lastSeq) {
      const merged = mergeSorted(list, [msg]);
      if (merged !== list) messages = { ...s.messages, [msg.chatId]: merged };
    } else {
      gap = true;
    }
  }
  const isNew = msg.seq > chat.lastSeq;
  let nextChat = chat;
  if (isNew) {
    nextChat = {
      ...chat,
      lastSeq: msg.seq,
      lastMessage: msg,
      updatedAt: msg.createdAt,
      unreadCount: mine ? chat.unreadCount : chat.unreadCount + 1,
      unreadMentions: (chat.unreadMentions ?? 0) + (!mine && me && msg.mentions?.includes(me.id) ? 1 : 0),
    };
    if (mine) nextChat = { ...nextChat, lastReadSeq: Math.max(chat.lastReadSeq, msg.seq), unreadCount: 0 };
  } else if (chat.lastMessage?.id === msg.id && !sameState(chat.lastMessage, msg) && isFresher(chat.lastMessage, msg)) {
    nextChat = { ...chat, lastMessage: msg };
  }
  // The pending bubble gives way to the real one; if the real one cannot be shown yet (a
  // gap before it, being fetched), the pending one stays until the catch-up brings it.
  const keepPending = gap || (!list && latestLoading.has(msg.chatId));
  const outbox =
    msg.clientMessageId && !keepPending
      ? s.outbox.filter((o) => o.clientMessageId !== msg.clientMessageId)
      : s.outbox;
  if (messages === s.messages && nextChat === chat && outbox.length === s.outbox.length) {
    if (gap) void fillChat(msg.chatId).catch(() => undefined);
    return;
  }
  setState({
    messages,
    hasOlder,
    chats: nextChat === chat ? s.chats : { ...s.chats, [chat.id]: nextChat },
    outbox: outbox.length === s.outbox.length ? s.outbox : outbox,
  });
  if (gap) void fillChat(msg.chatId).catch(() => undefined);
  if (!gap && !list && isNew && latestLoading.has(msg.chatId)) missedWhileLoading.add(msg.chatId);
  if (!mine && opts.fromPush && isNew) emitQuiet(ClientEvent.MARK_DELIVERED, { chatId: msg.chatId, seq: msg.seq });
}

/** A message was edited or deleted (`messageUpdated`, live or from /sync). Idempotent. */
export function applyUpdate(msg: MessageOut): void {
  const s = getState();
  const list = s.messages[msg.chatId];
  const chat = s.chats[msg.chatId];
  const last = list?.length ? list[list.length - 1].seq : 0;
  if (chat && msg.seq > Math.max(last, chat.lastSeq)) {
    // An update of a message not seen yet: it is new to us.
    applyIncoming(msg);
    return;
  }
  const patch: Partial<State> = {};
  if (list) {
    let merged = mergeSorted(list, [msg]);
    // Only a message already in the list is replaced: no holes in a loaded range.
    if (!list.some((m) => m.id === msg.id)) merged = list;
    merged = requote(merged, msg);
    if (merged !== list) patch.messages = { ...s.messages, [msg.chatId]: merged };
  }
  const lm = chat?.lastMessage;
  if (chat && lm && lm.id === msg.id && !sameState(lm, msg) && isFresher(lm, msg))
    patch.chats = { ...s.chats, [chat.id]: { ...chat, lastMessage: msg } };
  // The pin bar's copies: the message itself, and those quoting it.
  const pins = s.pins[msg.chatId];
  if (pins) {
    const next = requote(
      pins.map((p) => (p.id === msg.id && !sameState(p, msg) && isFresher(p, msg) ? { ...msg, pinnedAt: p.pinnedAt } : p)),
      msg,
    );
    if (next.some((p, i) => p !== pins[i])) patch.pins = { ...s.pins, [msg.chatId]: next };
  }
  if (patch.messages || patch.chats || patch.pins) setState(patch);
}

/** Characters of the original a reply quotes (the server's `REPLY_PREVIEW_MAX`). */
const QUOTE_MAX = 120;

/** One line of a message, as a reply quotes it (as the server's `rich.preview` does). */
export function quoteLine(content: string): string {
  const line = content
    .split(/\r\n|\r|\n/)
    .map((part) => part.trim())
    .find(Boolean);
  if (!line) return '';
  const chars = Array.from(line);
  return chars.length > QUOTE_MAX ? chars.slice(0, QUOTE_MAX - 1).join('') + '…' : line;
}

/**
 * The loaded replies to `original` quoting it as it is now: its new line after an edit,
 * "deleted" (and no text) once it is deleted. A quote already shown as deleted stays so
 * (deleted for good, or history kept from me).
 */
export function requote(list: MessageOut[], original: MessageOut): MessageOut[] {
  let out = list;
  list.forEach((m, i) => {
    const quote = m.replyTo;
    if (quote?.id !== original.id || quote.deleted) return;
    const deleted = !!original.deletedAt;
    const preview = deleted ? '' : quoteLine(original.content);
    if (quote.preview === preview && !deleted) return;
    if (out === list) out = list.slice();
    out[i] = { ...m, replyTo: { ...quote, preview, deleted } };
  });
  return out;
}

const latestLoading = new Set<Id>();
const missedWhileLoading = new Set<Id>();

export async function loadLatest(chatId: Id): Promise<void> {
  latestLoading.add(chatId);
  let page: MessageOut[];
  try {
    page = await api<MessageOut[]>('GET', `/messages/${chatId}?limit=${PAGE}`);
  } finally {
    latestLoading.delete(chatId);
  }
  settleOutbox(page);
  setState((s) => {
    const old = s.messages[chatId] || [];
    const first = page[0]?.seq ?? 0;
    const lastOld = old.length ? old[old.length - 1].seq : -1;
    // Overlapping or adjacent: merge; otherwise the cached part is too old, start over.
    const merged = old.length && first <= lastOld + 1 ? mergeSorted(old, page) : page;
    const hasOlder = (merged[0]?.seq ?? 1) > 1 && (page.length === PAGE || merged.length > page.length);
    return { messages: { ...s.messages, [chatId]: merged }, hasOlder: { ...s.hasOlder, [chatId]: hasOlder } };
  });
  // Messages that arrived while the page was on its way: fetch what the page missed.
  const s = getState();
  const list = s.messages[chatId] || [];
  const last = list.length ? list[list.length - 1].seq : 0;
  if (missedWhileLoading.delete(chatId) || (s.chats[chatId]?.lastSeq ?? 0) > last) void fillChat(chatId).catch(() => undefined);
}

/** Chats whose loaded messages are a window away from the newest (a search result opened). */
const windows = new Set<Id>();

/**
 * Shows a window of a chat's history around a message (`GET /messages?around=`): merged
 * with what is loaded when they touch, else in its place; newer messages then follow as
 * the reader scrolls down (fillChat), never by dropping the window.
 */
export async function showAround(chatId: Id, seq: number): Promise<void> {
  const page = await api<MessageOut[]>('GET', `/messages/${chatId}?around=${seq}&limit=${PAGE}`);
  setState((s) => {
    const old = s.messages[chatId] || [];
    const first = page[0]?.seq ?? 0;
    const last = page[page.length - 1]?.seq ?? 0;
    const touches = old.length > 0 && first <= old[old.length - 1].seq + 1 && last + 1 >= old[0].seq;
    const merged = touches ? mergeSorted(old, page) : page;
    if (!touches) windows.add(chatId);
    return {
      messages: { ...s.messages, [chatId]: merged },
      hasOlder: { ...s.hasOlder, [chatId]: (merged[0]?.seq ?? 1) > 1 },
    };
  });
}

const FILL_STEP = 200;
const FILL_PAGES = 5;
const filling = new Set<Id>();

/**
 * Fills a hole between a chat's loaded messages and its last one (`GET /messages?after=`).
 * `/sync` brings everything in order; this is for the odd case when a loaded list fell
 * behind without it (a page that crossed a live message, a push after a gap).
 */
export async function fillChat(chatId: Id): Promise<void> {
  if (filling.has(chatId)) return;
  filling.add(chatId);
  try {
    for (let page = 0; page < FILL_PAGES; page++) {
      const s = getState();
      const list = s.messages[chatId];
      const chat = s.chats[chatId];
      if (!list || !chat) return; // not opened yet: loaded when opened
      if (!list.length) {
        if (chat.lastSeq > 0) await loadLatest(chatId);
        return;
      }
      const known = list[list.length - 1].seq;
      if (chat.lastSeq <= known) {
        windows.delete(chatId);
        return;
      }
      const got = await api<MessageOut[]>('GET', `/messages/${chatId}?limit=${FILL_STEP}&after=${known}`);
      setState((st) => ({ messages: { ...st.messages, [chatId]: mergeSorted(st.messages[chatId] || [], got) } }));
      settleOutbox(got);
      if (got.length < FILL_STEP) return;
    }
    // A window the reader opened stays; the rest follows as they scroll down.
    if (windows.has(chatId)) return;
    // Too far behind: start from the latest page instead.
    setState((st) => ({ messages: { ...st.messages, [chatId]: [] } }));
    await loadLatest(chatId);
  } finally {
    filling.delete(chatId);
  }
}

export async function loadOlder(chatId: Id): Promise<void> {
  const s = getState();
  const list = s.messages[chatId];
  if (!list?.length || s.loadingOlder[chatId] || !s.hasOlder[chatId]) return;
  const before = list[0].seq;
  setState((st) => ({ loadingOlder: { ...st.loadingOlder, [chatId]: true } }));
  try {
    const page = await api<MessageOut[]>('GET', `/messages/${chatId}?limit=${PAGE}&before=${before}`);
    setState((st) => ({
      messages: { ...st.messages, [chatId]: mergeSorted(st.messages[chatId] || [], page) },
      hasOlder: { ...st.hasOlder, [chatId]: page.length === PAGE && page[0].seq > 1 },
    }));
  } finally {
    setState((st) => ({ loadingOlder: { ...st.loadingOlder, [chatId]: false } }));
  }
}

const readSent: Record<Id, number> = {};

export function markRead(chatId: Id): void {
  const s = getState();
  const chat = s.chats[chatId];
  const list = s.messages[chatId];
  if (!chat || !s.me || !list?.length) return;
  const seq = list[list.length - 1].seq;
  if (seq <= chat.lastReadSeq && chat.unreadCount === 0) return;
  if ((readSent[chatId] ?? 0) >= seq && chat.unreadCount === 0) return;
  readSent[chatId] = seq;
  setState((st) => {
    const c = st.chats[chatId];
    if (!c) return {};
    return {
      chats: {
        ...st.chats,
        [chatId]: {
          ...c,
          lastReadSeq: Math.max(c.lastReadSeq, seq),
          unreadCount: seq >= c.lastSeq ? 0 : c.unreadCount,
          unreadMentions: seq >= c.lastSeq ? 0 : c.unreadMentions,
          readStates: setReadState(c, st.me!.id, { lastReadSeq: seq }),
        },
      },
    };
  });
  if (isConnected()) emitQuiet(ClientEvent.MARK_READ, { chatId, seq });
  else void api('POST', `/chats/${chatId}/read`, { seq }).catch(() => (readSent[chatId] = 0));
}

// --- outbox -------------------------------------------------------------------------

export function send(
  chatId: Id,
  content: string,
  attachments?: OutboxItem['attachments'],
  replyToId?: Id,
): void {
  const item: OutboxItem = {
    clientMessageId: crypto.randomUUID(),
    chatId,
    content,
    replyToId,
    createdAt: new Date().toISOString(),
    state: 'queued',
    ...(attachments?.length ? { attachments } : {}),
  };
  setState((s) => ({ outbox: [...s.outbox, item] }));
  void flushOutbox();
}

export function retry(cid: string): void {
  setOutboxState(cid, 'queued');
  void flushOutbox();
}

export function discard(cid: string): void {
  setState((s) => ({ outbox: s.outbox.filter((o) => o.clientMessageId !== cid) }));
}

function setOutboxState(cid: string, state: OutboxItem['state'], error?: string): void {
  setState((s) => ({
    outbox: s.outbox.map((o) => (o.clientMessageId === cid ? { ...o, state, error } : o)),
  }));
}

let flushing = false;

/** Sends queued messages one by one, in order, while connected. Safe to call any time. */
export async function flushOutbox(): Promise<void> {
  if (flushing) return;
  flushing = true;
  try {
    while (isConnected()) {
      // A message with files waits until they are uploaded (media/upload.ts flushes then).
      const item = getState().outbox.find((o) => o.state === 'queued' && !o.attachments?.some((a) => !a.attachmentId));
      if (!item) break;
      setOutboxState(item.clientMessageId, 'sending');
      try {
        const ack = await emitAck<{ message: MessageOut }>(ClientEvent.SEND_MESSAGE, {
          chatId: item.chatId,
          content: item.content,
          clientMessageId: item.clientMessageId,
          ...(item.attachments ? { attachmentIds: item.attachments.map((a) => a.attachmentId) } : {}),
          replyToId: item.replyToId,
        });
        applyIncoming(ack.message);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'TIMEOUT' || code === 'NETWORK' || code === 'UNAVAILABLE' || code === 'RATE_LIMITED') {
          // Not refused: try again when the connection is back (the server dedups by client id).
          setOutboxState(item.clientMessageId, 'queued');
          if (isConnected() && code !== 'NETWORK') await new Promise((r) => setTimeout(r, 2000));
          if (!isConnected()) break;
        } else if (code === 'NOT_FOUND' || code === 'FORBIDDEN') {
          setOutboxState(item.clientMessageId, 'failed', code);
        } else {
          setOutboxState(item.clientMessageId, 'failed', code);
        }
      }
    }
  } finally {
    flushing = false;
  }
}

/** Messages fetched by REST settle the pending bubbles they correspond to. */
export function settleOutbox(msgs: MessageOut[]): void {
  const ids = new Set(msgs.map((m) => m.clientMessageId).filter(Boolean));
  if (!ids.size) return;
  setState((s) => {
    const outbox = s.outbox.filter((o) => !ids.has(o.clientMessageId));
    return outbox.length === s.outbox.length ? {} : { outbox };
  });
}

// --- edit and delete -------------------------------------------------------------------

/** Changes the text of one of my messages; the answer (and `messageUpdated`) updates it. */
export async function editMessage(msg: MessageOut, content: string): Promise<void> {
  const m = await api<MessageOut>('PATCH', `/messages/${msg.chatId}/${msg.id}`, { content });
  applyUpdate(m);
}

/** Deletes a message for everyone (mine, or anyone's for an admin). */
export async function deleteMessage(msg: MessageOut): Promise<void> {
  const m = await api<MessageOut>('DELETE', `/messages/${msg.chatId}/${msg.id}`);
  if (m?.id) applyUpdate(m);
}
