/** Full-text search (`GET /search`) and opening a result in its chat. */
import { api } from './api';
import { showAround, upsertChat } from './chats';
import { getState, navigate, setState } from './store';
import type { ChatOut, Id, MessageOut, SearchPageOut, TextRange } from './types';

export interface SearchFilters {
  chatId?: Id;
  senderId?: Id;
  /** Only messages with photos or videos, files, or voice messages. */
  has?: 'photo' | 'file' | 'voice';
  before?: string | null;
}

export function searchMessages(q: string, f: SearchFilters = {}): Promise<SearchPageOut> {
  const params = new URLSearchParams({ q });
  if (f.chatId) params.set('chatId', f.chatId);
  if (f.senderId) params.set('senderId', f.senderId);
  if (f.has) params.set('has', f.has);
  if (f.before) params.set('before', f.before);
  return api<SearchPageOut>('GET', `/search?${params}`);
}

/** Opens the message's chat scrolled to it (loading the history around it if needed). */
export async function openMessage(msg: MessageOut): Promise<void> {
  // A private chat I deleted from my list is still mine to search: it comes back to it.
  if (!getState().chats[msg.chatId]) upsertChat(await api<ChatOut>('GET', `/chats/${msg.chatId}`));
  const list = getState().messages[msg.chatId];
  const loaded = !!list?.length && list[0].seq <= msg.seq && msg.seq <= list[list.length - 1].seq;
  if (!loaded) await showAround(msg.chatId, msg.seq);
  setState({ focus: { chatId: msg.chatId, seq: msg.seq } });
  const r = getState().route;
  if (r.name !== 'chat' || r.id !== msg.chatId) navigate({ name: 'chat', id: msg.chatId }, r.name === 'chat');
}

export interface Piece {
  text: string;
  hit: boolean;
}

/** The text cut into plain and matching pieces (ranges in UTF-16 units, as JS strings
 * index), shortened to about `max` characters around the first match. */
export function pieces(text: string, ranges: TextRange[], max = 160): Piece[] {
  let from = 0;
  if (text.length > max && ranges.length) from = Math.max(0, ranges[0].start - 40);
  const to = Math.min(text.length, from + max);
  const out: Piece[] = [];
  let at = from;
  for (const r of ranges) {
    const start = Math.max(r.start, at);
    const end = Math.min(r.end, to);
    if (end <= start) continue;
    if (start > at) out.push({ text: text.slice(at, start), hit: false });
    out.push({ text: text.slice(start, end), hit: true });
    at = end;
  }
  if (at < to) out.push({ text: text.slice(at, to), hit: false });
  if (from > 0) out.unshift({ text: '…', hit: false });
  if (to < text.length) out.push({ text: '…', hit: false });
  return out;
}
