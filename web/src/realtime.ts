/**
 * What the server's pushes do to the state: the socket (socket.ts) is a leaf that this
 * module subscribes to; every push goes to the state changes in chats.ts, every (re)connect
 * to the catch-up in sync.ts and then the outbox. Typing indicators live here too.
 */
import { ServerEvent } from './api/generated/events';
import { applyIncoming, applyReadMarker, applyUpdate, applyUser, flushOutbox, removeChat, upsertChat } from './chats';
import { onConnect, onEvent, startSocket, stopSocket } from './socket';
import { getState, setState } from './store';
import { applyPin, applyReactions } from './rich';
import { noteChat, noteRemoved, syncNow } from './sync';
import type { ChatOut, ChatRemoved, MessageOut, Presence, ReactionsUpdated, ReadMarker, UserOut, UserTyping } from './types';

const lastMessageFrom = new Map<string, number>();
let syncRetry: ReturnType<typeof setTimeout> | undefined;
let unsubscribe: (() => void)[] = [];

/** After every (re)connect: catch up through /sync, then send what is queued. */
function syncAfterConnect(current: () => boolean, delay = 2000): void {
  clearTimeout(syncRetry);
  void syncNow()
    .then(() => void flushOutbox())
    .catch(() => {
      // The catch-up failed (server busy, network): the queue goes out anyway, the
      // catch-up is tried again while this connection lasts.
      void flushOutbox();
      syncRetry = setTimeout(() => {
        if (current()) syncAfterConnect(current, Math.min(delay * 2, 60_000));
      }, delay);
    });
}

function onMessageReceived(m: MessageOut): void {
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
}

function onChat(c: ChatOut): void {
  noteChat(c.id);
  upsertChat(c);
}

function onPresence(p: Presence): void {
  const u = getState().users[p.userId];
  if (u) setState((st) => ({ users: { ...st.users, [p.userId]: { ...u, isOnline: p.isOnline, lastSeenAt: p.lastSeenAt } } }));
}

function onUserTyping(p: UserTyping): void {
  const st = getState();
  if (st.me && p.userId === st.me.id) return;
  if (p.isTyping && Date.now() - (lastMessageFrom.get(`${p.chatId}:${p.userId}`) ?? 0) < 1500) return;
  const forChat = { ...(st.typing[p.chatId] || {}) };
  if (p.isTyping) forChat[p.userId] = { name: p.displayName || p.username, until: Date.now() + 6000 };
  else delete forChat[p.userId];
  setState({ typing: { ...st.typing, [p.chatId]: forChat } });
}

export function startRealtime(): void {
  if (unsubscribe.length) return;
  unsubscribe = [
    onConnect((current) => syncAfterConnect(current)),
    onEvent(ServerEvent.MESSAGE_RECEIVED, onMessageReceived),
    onEvent<MessageOut>(ServerEvent.MESSAGE_SENT, (m) => applyIncoming(m)),
    onEvent<MessageOut>(ServerEvent.MESSAGE_UPDATED, (m) => applyUpdate(m)),
    onEvent(ServerEvent.CHAT_CREATED, onChat),
    onEvent(ServerEvent.CHAT_UPDATED, onChat),
    onEvent<ChatRemoved>(ServerEvent.CHAT_REMOVED, (p) => {
      noteRemoved(p.chatId);
      removeChat(p.chatId);
    }),
    onEvent(ServerEvent.PRESENCE, onPresence),
    onEvent<UserOut>(ServerEvent.USER_JOINED, (u) => applyUser(u)),
    onEvent<UserOut>(ServerEvent.USER_UPDATED, (u) => applyUser(u)),
    onEvent(ServerEvent.USER_TYPING, onUserTyping),
    onEvent<ReadMarker>(ServerEvent.MESSAGES_READ, (p) => applyReadMarker(p.chatId, p.userId, p.seq, 'read')),
    onEvent<ReactionsUpdated>(ServerEvent.REACTIONS_UPDATED, (p) => applyReactions(p.chatId, p.messageId, p.reactions)),
    onEvent<MessageOut>(ServerEvent.MESSAGE_PINNED, applyPin),
    onEvent<MessageOut>(ServerEvent.MESSAGE_UNPINNED, applyPin),
    onEvent<ReadMarker>(ServerEvent.MESSAGES_DELIVERED, (p) => applyReadMarker(p.chatId, p.userId, p.seq, 'delivered')),
  ];
  startSocket();
}

export function stopRealtime(): void {
  clearTimeout(syncRetry);
  stopSocket();
  for (const off of unsubscribe) off();
  unsubscribe = [];
}

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
