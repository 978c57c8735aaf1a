/**
 * Where a chat's message list is scrolled, and what follows from it:
 * - a chat with unread messages opens at the first of them (under the unread line),
 *   fetching up to 4 older pages while it is not loaded yet;
 * - near the top, older messages are fetched and the row the reader looks at stays put;
 * - at the bottom, new messages keep it there, and the chat is marked read while visible;
 *   elsewhere a new message shows the ↓ button instead;
 * - a search result opened here is brought to the middle of the view and outlined a moment
 *   (before any unread positioning); when the loaded messages stop short of the newest
 *   (a window around an old result), reaching the bottom fetches the newer ones.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { fillChat, loadOlder, markRead } from '../../chats';
import { getState, setState, useStore } from '../../store';
import type { ChatOut, Id, MessageOut } from '../../types';

/** Within this many pixels of the top, older messages are fetched. */
const OLDER_AT = 600;
/** How long a message opened from search stays outlined. */
const FOUND_MS = 2500;

/** Brings the focused message (a search result) into view; false while it is not loaded. */
function showFound(el: HTMLElement, seq: number): boolean {
  const row = el.querySelector<HTMLElement>(`.msg-row[data-seq="${seq}"]`);
  if (!row) return false;
  el.scrollTop += row.getBoundingClientRect().top - el.getBoundingClientRect().top - (el.clientHeight - row.offsetHeight) / 2;
  // Outside Preact's rendering: a class of the moment, on the row as it is drawn now.
  row.classList.add('found');
  setTimeout(() => row.classList.remove('found'), FOUND_MS);
  return true;
}

function anchorOf(el: HTMLElement): { seq: number; offset: number } | null {
  const row = el.querySelector<HTMLElement>('.msg-row[data-seq]');
  if (!row) return null;
  return { seq: Number(row.dataset.seq), offset: row.getBoundingClientRect().top - el.getBoundingClientRect().top };
}

function isNearBottom(el: HTMLElement): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight < 80;
}

export interface ChatScroll {
  /** The scrolling element (the message log). */
  scroller: { current: HTMLDivElement | null };
  onScroll: () => void;
  /** Whether the ↓ button shows (new messages below the view). */
  showDown: boolean;
  /** The unread line goes after this seq (my read position when the chat opened), or nowhere. */
  unreadAfter: number | null;
  /** The ↓ button: to the bottom, and read. */
  jumpToBottom: () => void;
  /** I sent something: the view follows it to the bottom. */
  stickToBottom: () => void;
}

export function useChatScroll({
  chatId,
  chat,
  messages,
  pendingCount,
  hasOlder,
  loadingOlder,
}: {
  chatId: Id;
  chat: ChatOut | undefined;
  messages: MessageOut[];
  pendingCount: number;
  hasOlder: boolean | undefined;
  loadingOlder: boolean | undefined;
}): ChatScroll {
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const prevFirstSeq = useRef<number | null>(null);
  const prevLen = useRef(0);
  const prevPending = useRef(0);
  /** While older messages load: the first loaded row and its offset from the top of the view. */
  const anchor = useRef<{ seq: number; offset: number } | null>(null);
  const [showDown, setShowDown] = useState(false);
  // Where the unread part began when the chat was opened (my read position then), or null.
  const unreadRef = useRef<number | null | undefined>(undefined);
  if (unreadRef.current === undefined && chat) unreadRef.current = chat.unreadCount > 0 ? chat.lastReadSeq : null;
  const [sepHidden, setSepHidden] = useState(false);
  const unreadAfter = sepHidden ? null : (unreadRef.current ?? null);
  const positioned = useRef(false);
  const chased = useRef(0);
  const focus = useStore((s) => s.focus);

  const tryMarkRead = useCallback(() => {
    if (document.visibilityState === 'visible' && atBottom.current) markRead(chatId);
  }, [chatId]);

  useEffect(() => {
    document.addEventListener('visibilitychange', tryMarkRead);
    window.addEventListener('focus', tryMarkRead);
    return () => {
      document.removeEventListener('visibilitychange', tryMarkRead);
      window.removeEventListener('focus', tryMarkRead);
    };
  }, [tryMarkRead]);

  // Keep the view where it should be after the list changes.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const first = messages[0]?.seq ?? null;
    if (focus?.chatId === chatId && showFound(el, focus.seq)) {
      setState({ focus: null });
      positioned.current = true;
      anchor.current = null;
      atBottom.current = isNearBottom(el);
      setShowDown(!atBottom.current);
      prevFirstSeq.current = first;
      prevLen.current = messages.length;
      prevPending.current = pendingCount;
      return;
    }
    if (!positioned.current && messages.length && openAtUnread(el)) {
      prevFirstSeq.current = first;
      prevLen.current = messages.length;
      prevPending.current = pendingCount;
      tryMarkRead();
      return;
    }
    if (anchor.current && prevFirstSeq.current !== null && first !== null && first < prevFirstSeq.current) {
      // Older messages were prepended: keep what the reader looks at in place.
      // Put the row that was first back where it was (whether or not the browser's own
      // scroll anchoring moved it already).
      const a = anchor.current;
      const row = el.querySelector<HTMLElement>(`.msg-row[data-seq="${a.seq}"]`);
      if (row) el.scrollTop += row.getBoundingClientRect().top - el.getBoundingClientRect().top - a.offset;
      anchor.current = null;
    } else if (atBottom.current || pendingCount > prevPending.current) {
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
      if (pendingCount > prevPending.current) setSepHidden(true); // I answered: all seen
    } else if (messages.length > prevLen.current) {
      setShowDown(true);
    }
    if (!loadingOlder) anchor.current = null;
    prevFirstSeq.current = first;
    prevLen.current = messages.length;
    prevPending.current = pendingCount;
    tryMarkRead();
    // Near the top (or too few messages to scroll): fetch older ones now, not on the next scroll.
    if (hasOlder && !loadingOlder && (el.scrollHeight <= el.clientHeight + 50 || el.scrollTop < OLDER_AT)) requestOlder();
  }, [messages, pendingCount, hasOlder, loadingOlder, focus]);

  /**
   * Opening a chat with unread messages: show the first unread one (under the "Unread
   * messages" line) instead of the bottom. While it is not loaded, older pages are fetched
   * (a few at most). Returns true while this positioning is still in charge of the scroll.
   */
  const openAtUnread = (el: HTMLDivElement): boolean => {
    const after = unreadRef.current;
    if (after == null) {
      positioned.current = true;
      return false;
    }
    const sep = el.querySelector<HTMLElement>('.unread-sep');
    if (sep) {
      // Below the sticky day label, which stays at the top of the view.
      el.scrollTop += sep.getBoundingClientRect().top - el.getBoundingClientRect().top - 40;
      positioned.current = true;
      anchor.current = getState().loadingOlder[chatId] ? anchorOf(el) : null;
      atBottom.current = isNearBottom(el);
      setShowDown(!atBottom.current);
      return true;
    }
    if (getState().hasOlder[chatId] && messages[0].seq > after + 1 && chased.current < 4) {
      // The first unread one is older than what is loaded: start at the top, fetch more.
      atBottom.current = false;
      if (!getState().loadingOlder[chatId]) {
        el.scrollTop = 0;
        chased.current++;
        requestOlder();
      }
      return true;
    }
    positioned.current = true;
    return false;
  };

  const requestOlder = () => {
    const el = scroller.current;
    if (!el || getState().loadingOlder[chatId] || !getState().hasOlder[chatId]) return;
    anchor.current = anchorOf(el);
    void loadOlder(chatId).catch(() => undefined);
  };

  const onScroll = () => {
    const el = scroller.current!;
    atBottom.current = isNearBottom(el);
    if (atBottom.current) {
      setShowDown(false);
      tryMarkRead();
      if ((getState().chats[chatId]?.lastSeq ?? 0) > (messages[messages.length - 1]?.seq ?? 0))
        void fillChat(chatId).catch(() => undefined);
    }
    if (getState().loadingOlder[chatId]) anchor.current = anchorOf(el);
    else if (el.scrollTop < OLDER_AT) requestOlder();
  };

  const stickToBottom = () => {
    atBottom.current = true;
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  };

  const jumpToBottom = () => {
    const el = scroller.current!;
    void fillChat(chatId).catch(() => undefined);
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setShowDown(false);
    tryMarkRead();
  };

  return { scroller, onScroll, showDown, unreadAfter, jumpToBottom, stickToBottom };
}
