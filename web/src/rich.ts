/**
 * Replies, reactions, pins, forwards and mentions (ADR 14): their state changes and calls.
 * Reactions and pins change a message without moving its chat or its unread count, so
 * they patch the loaded message in place (its `updatedAt` does not change).
 */
import { api } from './api';
import { ClientEvent } from './api/generated/events';
import type { ReactionOut } from './api/generated/rest';
import { loadOlder } from './chats';
import { emitAck, isConnected } from './socket';
import { getState, setState } from './store';
import type { Id, MessageOut } from './types';

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

function patchMessage(chatId: Id, messageId: Id, patch: (m: MessageOut) => MessageOut): void {
  setState((s) => {
    const list = s.messages[chatId];
    const chat = s.chats[chatId];
    const out: Partial<typeof s> = {};
    if (list?.some((m) => m.id === messageId))
      out.messages = { ...s.messages, [chatId]: list.map((m) => (m.id === messageId ? patch(m) : m)) };
    if (chat?.lastMessage?.id === messageId) out.chats = { ...s.chats, [chatId]: { ...chat, lastMessage: patch(chat.lastMessage) } };
    const pins = s.pins[chatId];
    if (pins?.some((m) => m.id === messageId))
      out.pins = { ...s.pins, [chatId]: pins.map((m) => (m.id === messageId ? patch(m) : m)) };
    return out;
  });
}

/** `reactionsUpdated` (live, or a message from /sync). Idempotent. */
export function applyReactions(chatId: Id, messageId: Id, reactions: ReactionOut[]): void {
  patchMessage(chatId, messageId, (m) => ({ ...m, reactions }));
}

/** `messagePinned` / `messageUnpinned` (live or from /sync): the message and the pin bar. */
export function applyPin(msg: MessageOut): void {
  patchMessage(msg.chatId, msg.id, (m) => ({ ...m, pinnedAt: msg.pinnedAt }));
  setState((s) => {
    const pins = s.pins[msg.chatId];
    if (!pins) return {};
    const rest = pins.filter((m) => m.id !== msg.id);
    const next = msg.pinnedAt && !msg.deletedAt ? [msg, ...rest] : rest;
    next.sort((a, b) => Date.parse(b.pinnedAt || '') - Date.parse(a.pinnedAt || ''));
    return { pins: { ...s.pins, [msg.chatId]: next } };
  });
}

export async function loadPins(chatId: Id): Promise<void> {
  const pins = await api<MessageOut[]>('GET', `/chats/${chatId}/pins`);
  setState((s) => ({ pins: { ...s.pins, [chatId]: pins } }));
}

export async function setPinned(msg: MessageOut, pinned: boolean): Promise<void> {
  const m = await api<MessageOut>(pinned ? 'POST' : 'DELETE', `/messages/${msg.chatId}/${msg.id}/pin`);
  applyPin(m);
}

/** Puts or takes back my reaction (over the socket when connected). */
export async function toggleReaction(msg: MessageOut, emoji: string): Promise<void> {
  const me = getState().me;
  const current = getState().messages[msg.chatId]?.find((m) => m.id === msg.id) || msg;
  const mine = !!me && (current.reactions || []).some((r) => r.emoji === emoji && r.userIds.includes(me.id));
  const payload = { chatId: msg.chatId, messageId: msg.id, emoji, active: !mine };
  const answer = isConnected()
    ? await emitAck<{ reactions: ReactionOut[] }>(ClientEvent.REACT, payload)
    : await api<{ reactions: ReactionOut[] }>(
        mine ? 'DELETE' : 'PUT',
        `/messages/${msg.chatId}/${msg.id}/reactions/${encodeURIComponent(emoji)}`,
      );
  applyReactions(msg.chatId, msg.id, answer.reactions);
}

export async function forwardMessages(messageIds: Id[], toChatIds: Id[]): Promise<MessageOut[]> {
  return api<MessageOut[]>('POST', '/messages/forward', { messageIds, toChatIds });
}

const MAX_PAGES = 40;

/**
 * Scrolls to a message of the open chat and flashes it, loading older pages until it is
 * there. False when it cannot be found (deleted from the history kept, or too far back).
 */
export async function revealMessage(chatId: Id, messageId: Id): Promise<boolean> {
  for (let page = 0; page <= MAX_PAGES; page++) {
    const el = document.querySelector<HTMLElement>(`.msg-row[data-message-id="${messageId}"]`);
    if (el) {
      el.scrollIntoView({ block: 'center' });
      el.classList.remove('flash');
      void el.offsetWidth; // restart the animation
      el.classList.add('flash');
      return true;
    }
    const s = getState();
    if (!s.hasOlder[chatId]) return false;
    await loadOlder(chatId);
    await new Promise((r) => requestAnimationFrame(r));
  }
  return false;
}

/** Whether the message mentions me. */
export function mentionsMe(msg: MessageOut): boolean {
  const me = getState().me;
  return !!me && (msg.mentions || []).includes(me.id);
}
