import { Component, type RefObject } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { deleteMessage, discard, editMessage, fillChat, loadLatest, loadOlder, markRead, retry, send } from '../chats';
import type { ApiError } from '../api';
import { errorText, membersLabel, t } from '../i18n';
import { emitQuiet } from '../realtime';
import { getState, goBack, toast, useStore } from '../store';
import type { ChatOut, Id, MessageOut, OutboxItem } from '../types';
import {
  Avatar,
  ConfirmDialog,
  dayKey,
  dayLabel,
  Dialog,
  hashIndex,
  Icon,
  IconButton,
  type IconName,
  lastSeenText,
  linkify,
  timeOf,
} from '../ui';
import { ChatInfoDialog } from './ChatInfo';
import { chatTitle, otherId, typingText } from './ChatList';

type Status = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

const drafts = new Map<Id, string>();
const EMPTY: MessageOut[] = [];

function statusOf(chat: ChatOut, meId: Id, seq: number): Status {
  let delivered = false;
  for (const r of chat.readStates || []) {
    if (r.userId === meId) continue;
    if (r.lastReadSeq >= seq) return 'read';
    if (r.lastDeliveredSeq >= seq) delivered = true;
  }
  return delivered ? 'delivered' : 'sent';
}

function StatusIcon({ status }: { status: Status }) {
  const name = status === 'sending' ? 'clock' : status === 'failed' ? 'error' : status === 'sent' ? 'check' : 'doneAll';
  return <Icon name={name} class={`status status-${status}`} />;
}

interface RowProps {
  msg: MessageOut;
  mine: boolean;
  status?: Status;
  senderName: string;
  showName: boolean;
  showAvatar: boolean;
  groupChat: boolean;
  tail: boolean;
  editing: boolean;
  onInfo?: (m: MessageOut) => void;
  onMenu?: (m: MessageOut, anchor: HTMLElement, trigger: HTMLElement | null) => void;
}

const LONG_PRESS_MS = 500;

/** One message; re-renders only when its own props change. */
class MessageRow extends Component<RowProps> {
  private press: { timer: ReturnType<typeof setTimeout>; x: number; y: number } | null = null;
  private pressed = false;

  shouldComponentUpdate(next: RowProps): boolean {
    const p = this.props;
    return (
      p.msg !== next.msg ||
      p.status !== next.status ||
      p.senderName !== next.senderName ||
      p.showName !== next.showName ||
      p.showAvatar !== next.showAvatar ||
      p.tail !== next.tail ||
      p.editing !== next.editing
    );
  }

  componentWillUnmount(): void {
    this.cancelPress();
  }

  private cancelPress = () => {
    if (this.press) clearTimeout(this.press.timer);
    this.press = null;
  };

  // Long-press on touch opens the menu (iOS has no contextmenu event for it).
  private onPointerDown = (e: PointerEvent) => {
    if (e.pointerType === 'mouse' || !this.props.onMenu || this.props.msg.deletedAt) return;
    const bubble = e.currentTarget as HTMLElement;
    this.pressed = false;
    this.cancelPress();
    this.press = {
      x: e.clientX,
      y: e.clientY,
      timer: setTimeout(() => {
        this.press = null;
        this.pressed = true;
        navigator.vibrate?.(10);
        this.props.onMenu?.(this.props.msg, bubble, null);
      }, LONG_PRESS_MS),
    };
  };

  private onPointerMove = (e: PointerEvent) => {
    if (this.press && Math.hypot(e.clientX - this.press.x, e.clientY - this.press.y) > 10) this.cancelPress();
  };

  private onContextMenu = (e: MouseEvent) => {
    if (!this.props.onMenu || this.props.msg.deletedAt) return;
    // A link keeps the browser's own menu for a mouse (copy the address).
    if ((e.target as HTMLElement).closest('a') && !this.pressed && !this.press) return;
    e.preventDefault();
    if (this.pressed) return; // the long-press already opened it
    this.cancelPress();
    this.props.onMenu(this.props.msg, e.currentTarget as HTMLElement, null);
  };

  // The click that ends a long-press must not follow a link.
  private onClickCapture = (e: MouseEvent) => {
    if (this.pressed) {
      e.preventDefault();
      e.stopPropagation();
      this.pressed = false;
    }
  };

  render({ msg, mine, status, senderName, showName, showAvatar, groupChat, tail, editing, onInfo, onMenu }: RowProps) {
    const time = timeOf(msg.createdAt);
    const deleted = !!msg.deletedAt;
    return (
      <div
        class={`msg-row ${mine ? 'mine' : 'theirs'} ${tail ? 'tail' : ''} ${deleted ? 'deleted' : ''} ${editing ? 'editing' : ''}`}
        data-seq={msg.seq}
        data-message-id={msg.id}
      >
        {!mine && groupChat && (
          <div class="msg-avatar">{showAvatar && <Avatar id={msg.senderId} name={senderName} size="sm" />}</div>
        )}
        <div
          class="bubble"
          onPointerDown={this.onPointerDown}
          onPointerMove={this.onPointerMove}
          onPointerUp={this.cancelPress}
          onPointerCancel={this.cancelPress}
          onContextMenu={this.onContextMenu}
          onClickCapture={this.onClickCapture}
        >
          {showName && !mine && groupChat && <div class={`sender-name snc-${hashIndex(msg.senderId, 8)}`}>{senderName}</div>}
          {deleted ? (
            <div class="msg-text msg-deleted">
              <Icon name="block" />
              {t('messageDeleted')}
            </div>
          ) : (
            <div class="msg-text" dir="auto">
              {linkify(msg.content)}
            </div>
          )}
          <span class="msg-meta">
            {msg.editedAt && !deleted && <span class="msg-edited">{t('edited')}</span>}
            <time dateTime={msg.createdAt}>{time}</time>
            {mine && status && !deleted && (
              <button
                type="button"
                class="meta-btn"
                aria-label={`${t('messageInfo')}: ${t(status)}`}
                title={t(status)}
                onClick={() => onInfo?.(msg)}
              >
                <StatusIcon status={status} />
              </button>
            )}
          </span>
          {onMenu && !deleted && (
            <button
              type="button"
              class="msg-more"
              aria-label={t('messageActions')}
              aria-haspopup="menu"
              title={t('messageActions')}
              onClick={(e) => onMenu(msg, e.currentTarget.parentElement as HTMLElement, e.currentTarget)}
            >
              <Icon name="more" />
            </button>
          )}
        </div>
      </div>
    );
  }
}

interface MenuItem {
  label: string;
  icon: IconName;
  danger?: boolean;
  run: () => void;
}

/**
 * The message menu: a small modal list next to the message (top layer, focus kept inside,
 * Escape or a click outside closes it and gives the focus back). Arrow keys move between items.
 */
function MessageMenu({
  anchor,
  trigger,
  mine,
  items,
  onClose,
}: {
  anchor: HTMLElement;
  trigger: HTMLElement | null;
  mine: boolean;
  items: MenuItem[];
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useLayoutEffect(() => {
    const d = ref.current!;
    if (!d.open) d.showModal();
    const r = anchor.getBoundingClientRect();
    const w = d.offsetWidth;
    const h = d.offsetHeight;
    let top = r.bottom + 4;
    if (top + h > window.innerHeight - 8) top = Math.max(8, r.top - h - 4);
    let left = mine ? r.right - w : r.left;
    left = Math.min(Math.max(8, left), window.innerWidth - w - 8);
    // CSSOM custom properties: allowed by the strict CSP (no style attribute is written).
    d.style.setProperty('--menu-top', `${Math.round(top)}px`);
    d.style.setProperty('--menu-left', `${Math.round(left)}px`);
    d.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    return () => {
      if (d.open) d.close();
      trigger?.focus();
    };
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    const all = [...ref.current!.querySelectorAll<HTMLElement>('[role="menuitem"]')];
    const i = all.indexOf(document.activeElement as HTMLElement);
    let next = -1;
    if (e.key === 'ArrowDown') next = (i + 1) % all.length;
    else if (e.key === 'ArrowUp') next = (i - 1 + all.length) % all.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = all.length - 1;
    else if (e.key === 'Tab') {
      e.preventDefault();
      onClose();
      return;
    }
    if (next >= 0) {
      e.preventDefault();
      all[next].focus();
    }
  };
  return (
    <dialog
      ref={ref}
      class="msg-menu"
      aria-label={t('messageActions')}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) onClose();
      }}
      onKeyDown={onKeyDown}
    >
      <div role="menu" aria-label={t('messageActions')}>
        {items.map((it) => (
          <button
            key={it.label}
            type="button"
            role="menuitem"
            class={`menu-item ${it.danger ? 'danger' : ''}`}
            onClick={() => {
              onClose();
              it.run();
            }}
          >
            <Icon name={it.icon} />
            {it.label}
          </button>
        ))}
      </div>
    </dialog>
  );
}

function PendingRow({ item }: { item: OutboxItem }) {
  const failed = item.state === 'failed';
  return (
    <div class={`msg-row mine tail pending ${failed ? 'failed' : ''}`} data-client-id={item.clientMessageId}>
      <div class="bubble">
        <div class="msg-text" dir="auto">
          {item.content}
        </div>
        <span class="msg-meta">
          <time dateTime={item.createdAt}>{timeOf(item.createdAt)}</time>
          <span role="img" aria-label={failed ? t('failed') : t('sending')} title={failed ? t('failed') : t('sending')}>
            <StatusIcon status={failed ? 'failed' : 'sending'} />
          </span>
        </span>
      </div>
      {failed && (
        <div class="pending-actions">
          <button type="button" class="btn btn-tonal btn-small" onClick={() => retry(item.clientMessageId)}>
            <Icon name="refresh" /> {t('retry')}
          </button>
          <IconButton icon="delete" label={t('remove')} onClick={() => discard(item.clientMessageId)} />
        </div>
      )}
    </div>
  );
}

function anchorOf(el: HTMLElement): { seq: number; offset: number } | null {
  const row = el.querySelector<HTMLElement>('.msg-row[data-seq]');
  if (!row) return null;
  return { seq: Number(row.dataset.seq), offset: row.getBoundingClientRect().top - el.getBoundingClientRect().top };
}

function isNearBottom(el: HTMLElement): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight < 80;
}

export function ChatView({ chatId }: { chatId: Id }) {
  const chat = useStore((s) => s.chats[chatId]);
  const me = useStore((s) => s.me)!;
  const users = useStore((s) => s.users);
  const messages = useStore((s) => s.messages[chatId]) || EMPTY;
  const loadedAny = useStore((s) => s.messages[chatId] !== undefined);
  const hasOlder = useStore((s) => s.hasOlder[chatId]);
  const loadingOlder = useStore((s) => s.loadingOlder[chatId]);
  const outbox = useStore((s) => s.outbox);
  const typing = useStore((s) => s.typing[chatId]);
  const chatsLoaded = useStore((s) => s.chatsLoaded);
  const pending = outbox.filter((o) => o.chatId === chatId);

  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const prevFirstSeq = useRef<number | null>(null);
  const prevLen = useRef(0);
  const prevPending = useRef(0);
  /** While older messages load: the first loaded row and its offset from the top of the view. */
  const anchor = useRef<{ seq: number; offset: number } | null>(null);
  const [showDown, setShowDown] = useState(false);
  const [infoOpen, setInfoOpen] = useState(false);
  const [msgInfo, setMsgInfo] = useState<MessageOut | null>(null);
  const [menu, setMenu] = useState<{ msg: MessageOut; anchor: HTMLElement; trigger: HTMLElement | null } | null>(null);
  const [editing, setEditing] = useState<MessageOut | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<MessageOut | null>(null);
  // Where the unread part began when the chat was opened (my read position then), or null.
  const unreadRef = useRef<number | null | undefined>(undefined);
  if (unreadRef.current === undefined && chat) unreadRef.current = chat.unreadCount > 0 ? chat.lastReadSeq : null;
  const [sepHidden, setSepHidden] = useState(false);
  const unreadAfter = sepHidden ? null : (unreadRef.current ?? null);
  const positioned = useRef(false);
  const chased = useRef(0);
  const openMenu = useCallback(
    (msg: MessageOut, anchor: HTMLElement, trigger: HTMLElement | null) => setMenu({ msg, anchor, trigger }),
    [],
  );

  // Load (or catch up) when the chat opens.
  useEffect(() => {
    const s = loadedAny;
    if (!s) void loadLatest(chatId).catch(() => undefined);
    else void fillChat(chatId).catch(() => undefined);
  }, [chatId]);

  // The message being edited was deleted meanwhile (by an admin, or on another device).
  useEffect(() => {
    if (editing && messages.find((m) => m.id === editing.id)?.deletedAt) setEditing(null);
  }, [messages, editing]);

  // Escape leaves the chat (dialogs handle their own Escape first).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented && !document.querySelector('dialog[open]')) goBack();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

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
    if (!positioned.current && messages.length && openAtUnread(el)) {
      prevFirstSeq.current = first;
      prevLen.current = messages.length;
      prevPending.current = pending.length;
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
    } else if (atBottom.current || pending.length > prevPending.current) {
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
      if (pending.length > prevPending.current) setSepHidden(true); // I answered: all seen
    } else if (messages.length > prevLen.current) {
      setShowDown(true);
    }
    if (!loadingOlder) anchor.current = null;
    prevFirstSeq.current = first;
    prevLen.current = messages.length;
    prevPending.current = pending.length;
    tryMarkRead();
    // Near the top (or too few messages to scroll): fetch older ones now, not on the next scroll.
    if (hasOlder && !loadingOlder && (el.scrollHeight <= el.clientHeight + 50 || el.scrollTop < 600)) requestOlder();
  }, [messages, pending.length, hasOlder, loadingOlder]);

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
    }
    if (getState().loadingOlder[chatId]) anchor.current = anchorOf(el);
    else if (el.scrollTop < 600) requestOlder();
  };

  if (!chat) {
    return (
      <div class="chat-view">
        <header class="topbar">
          <IconButton icon="back" label={t('back')} onClick={goBack} class="back-btn" />
          <h1 class="topbar-title">{chatsLoaded ? t('err.NOT_FOUND') : '…'}</h1>
        </header>
      </div>
    );
  }

  const title = chatTitle(chat, { me, users });
  const oid = otherId(chat, me.id);
  const other = oid ? users[oid] : undefined;
  const typingNow = typingText(typing);
  const groupChat = chat.type !== 'private';
  const online = chat.participantIds.filter((id) => id !== me.id && users[id]?.isOnline).length;
  const subtitle = typingNow
    ? typingNow
    : chat.type === 'private'
      ? other?.isOnline
        ? t('online')
        : lastSeenText(other?.lastSeenAt ?? null)
      : membersLabel(chat.participantIds.length, online);

  const menuItems = (m: MessageOut): MenuItem[] => {
    const mine = m.senderId === me.id;
    const items: MenuItem[] = [];
    if (mine) items.push({ label: t('edit'), icon: 'edit', run: () => setEditing(m) });
    items.push({
      label: t('copyText'),
      icon: 'copy',
      run: () =>
        void navigator.clipboard
          ?.writeText(m.content)
          .then(() => toast(t('textCopied')))
          .catch(() => undefined),
    });
    if (mine) items.push({ label: t('messageInfo'), icon: 'info', run: () => setMsgInfo(m) });
    if (mine || me.isAdmin) items.push({ label: t('delete'), icon: 'delete', danger: true, run: () => setConfirmDelete(m) });
    return items;
  };

  const rows: preact.JSX.Element[] = [];
  let prev: MessageOut | null = null;
  let sepShown = false;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const next = messages[i + 1];
    const newDay = !prev || dayKey(prev.createdAt) !== dayKey(m.createdAt);
    if (newDay)
      rows.push(
        <div class="day-sep" key={`d${m.seq}`} role="separator">
          <span>{dayLabel(m.createdAt)}</span>
        </div>,
      );
    const sameAsPrev =
      !newDay && prev && prev.senderId === m.senderId && Date.parse(m.createdAt) - Date.parse(prev.createdAt) < 5 * 60_000;
    const sameAsNext =
      next &&
      next.senderId === m.senderId &&
      dayKey(next.createdAt) === dayKey(m.createdAt) &&
      Date.parse(next.createdAt) - Date.parse(m.createdAt) < 5 * 60_000;
    const mine = m.senderId === me.id;
    // The line goes before the first unread message, once it is loaded.
    if (!sepShown && unreadAfter !== null && m.seq > unreadAfter && !mine && messages[0].seq <= unreadAfter + 1) {
      sepShown = true;
      rows.push(
        <div class="unread-sep" key="unread" role="separator">
          <span>{t('unreadMessages')}</span>
        </div>,
      );
    }
    rows.push(
      <MessageRow
        key={m.seq}
        msg={m}
        mine={mine}
        status={mine ? statusOf(chat, me.id, m.seq) : undefined}
        senderName={users[m.senderId]?.displayName || m.sender.displayName || m.sender.username}
        showName={!sameAsPrev}
        showAvatar={!sameAsNext}
        groupChat={groupChat}
        tail={!sameAsNext}
        editing={editing?.id === m.id}
        onInfo={setMsgInfo}
        onMenu={openMenu}
      />,
    );
    prev = m;
  }

  return (
    <div class="chat-view">
      <header class="topbar chat-topbar">
        <IconButton icon="back" label={t('back')} onClick={goBack} class="back-btn" />
        <button class="chat-head" type="button" onClick={() => setInfoOpen(true)} aria-label={`${t('chatInfo')}: ${title}`}>
          <Avatar id={oid || chat.id} name={title} online={other?.isOnline} group={groupChat} />
          <span class="chat-head-text">
            <span class="chat-head-title">{title}</span>
            <span class={`chat-head-sub ${typingNow ? 'typing' : ''}`} aria-live="polite">
              {subtitle}
            </span>
          </span>
        </button>
        <IconButton icon="info" label={t('chatInfo')} onClick={() => setInfoOpen(true)} />
      </header>
      <div class="messages" ref={scroller} onScroll={onScroll} role="log" aria-label={title} aria-busy={!!loadingOlder} tabIndex={0}>
        <div class="messages-inner">
          {loadedAny && hasOlder ? (
            <div class="older-hint" role="status">
              {loadingOlder ? <span class="spinner" aria-hidden="true" /> : null}
              <span class="sr-only-if-idle">{t('loadingOlder')}</span>
            </div>
          ) : loadedAny && messages.length > 0 ? (
            <div class="start-hint">{t('startOfChat')}</div>
          ) : null}
          {loadedAny && !messages.length && !pending.length && <div class="empty-chat">{t('noMessages')}</div>}
          {rows}
          {pending.map((p) => (
            <PendingRow key={p.clientMessageId} item={p} />
          ))}
        </div>
      </div>
      {showDown && (
        <button
          type="button"
          class="fab fab-small scroll-down"
          aria-label={t('scrollToBottom')}
          onClick={() => {
            const el = scroller.current!;
            el.scrollTop = el.scrollHeight;
            atBottom.current = true;
            setShowDown(false);
            tryMarkRead();
          }}
        >
          <Icon name="down" />
          {chat.unreadCount > 0 && <span class="badge">{chat.unreadCount}</span>}
        </button>
      )}
      <Composer
        chatId={chatId}
        scroller={scroller}
        atBottom={atBottom}
        editing={editing}
        onEditDone={() => setEditing(null)}
        onEditLast={() => {
          const last = [...messages].reverse().find((m) => m.senderId === me.id && !m.deletedAt);
          if (last) setEditing(last);
        }}
      />
      {infoOpen && <ChatInfoDialog chat={chat} onClose={() => setInfoOpen(false)} />}
      {msgInfo && <MessageInfo chat={chat} msg={msgInfo} onClose={() => setMsgInfo(null)} />}
      {menu && (
        <MessageMenu
          anchor={menu.anchor}
          trigger={menu.trigger}
          mine={menu.msg.senderId === me.id}
          items={menuItems(menu.msg)}
          onClose={() => setMenu(null)}
        />
      )}
      {confirmDelete && (
        <ConfirmDialog
          text={t('deleteConfirm')}
          confirmLabel={t('deleteForEveryone')}
          danger
          onConfirm={() => {
            const m = confirmDelete;
            if (editing?.id === m.id) setEditing(null);
            void deleteMessage(m).catch((e: ApiError) => toast(errorText(e.code)));
          }}
          onClose={() => setConfirmDelete(null)}
        />
      )}
    </div>
  );
}

function Composer({
  chatId,
  scroller,
  atBottom,
  editing,
  onEditDone,
  onEditLast,
}: {
  chatId: Id;
  scroller: RefObject<HTMLDivElement | null>;
  atBottom: { current: boolean };
  editing: MessageOut | null;
  onEditDone: () => void;
  onEditLast: () => void;
}) {
  const [text, setText] = useState(drafts.get(chatId) || '');
  const [saving, setSaving] = useState(false);
  const lastTyping = useRef(0);
  const ref = useRef<HTMLTextAreaElement>(null);
  const editingId = useRef<Id | null>(null);

  useEffect(() => {
    // Focus the composer on desktop when a chat opens.
    if (window.matchMedia('(min-width: 840px)').matches) ref.current?.focus();
    return () => stopTyping();
  }, [chatId]);

  // Editing puts the message's text in the composer; the draft comes back afterwards.
  // A layout effect: it runs with the render that names the box "Edit message", so what is
  // typed there next is never overwritten by a late effect (a busy page can delay plain
  // effects past the first keystrokes, and Enter then saved the unchanged text: nothing).
  useLayoutEffect(() => {
    if (editing) {
      stopTyping();
      editingId.current = editing.id;
      setText(editing.content);
      const el = ref.current;
      if (el) {
        el.value = editing.content;
        el.focus();
        el.setSelectionRange(el.value.length, el.value.length);
      }
    } else if (editingId.current) {
      editingId.current = null;
      setText(drafts.get(chatId) || '');
      ref.current?.focus();
    }
  }, [editing?.id]);

  const stopTyping = () => {
    if (lastTyping.current) {
      emitQuiet('typing', { chatId, isTyping: false });
      lastTyping.current = 0;
    }
  };

  const saveEdit = async (msg: MessageOut) => {
    const content = text.trim();
    if (!content || saving) return;
    if (content === msg.content) {
      onEditDone();
      return;
    }
    setSaving(true);
    try {
      await editMessage(msg, content);
      onEditDone();
    } catch (e) {
      toast(errorText((e as ApiError).code));
    } finally {
      setSaving(false);
    }
  };

  const submit = () => {
    if (editing) {
      void saveEdit(editing);
      return;
    }
    const content = text.trim();
    if (!content) return;
    send(chatId, content);
    setText('');
    drafts.delete(chatId);
    stopTyping();
    atBottom.current = true;
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
    ref.current?.focus();
  };

  return (
    <form
      class={`composer ${editing ? 'is-editing' : ''}`}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {editing && (
        <div class="edit-bar">
          <Icon name="edit" />
          <span class="edit-bar-text">
            <span class="edit-bar-title">{t('editMessage')}</span>
            <span class="edit-bar-quote">{editing.content}</span>
          </span>
          <IconButton icon="close" label={t('cancelEdit')} onClick={onEditDone} />
        </div>
      )}
      <div class="composer-row">
        <textarea
          ref={ref}
          rows={1}
          name="message"
          class="composer-input"
          placeholder={t('messagePlaceholder')}
          aria-label={editing ? t('editMessage') : t('messagePlaceholder')}
          maxLength={4000}
          value={text}
          enterkeyhint={editing ? 'done' : 'send'}
          onInput={(e) => {
            const v = e.currentTarget.value;
            setText(v);
            if (editing) return; // an edit is not a new message: no draft, no typing
            drafts.set(chatId, v);
            const now = Date.now();
            if (v.trim() && now - lastTyping.current > 3000) {
              emitQuiet('typing', { chatId, isTyping: true });
              lastTyping.current = now;
            } else if (!v.trim()) stopTyping();
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              submit();
            } else if (e.key === 'Escape' && editing) {
              e.preventDefault(); // cancels the edit, does not leave the chat
              onEditDone();
            } else if (e.key === 'ArrowUp' && !editing && !text && !e.isComposing) {
              e.preventDefault();
              onEditLast();
            }
          }}
          onBlur={stopTyping}
        />
        <button
          class="send-btn"
          type="submit"
          aria-label={editing ? t('save') : t('send')}
          title={editing ? t('save') : t('send')}
          disabled={!text.trim() || saving}
        >
          <Icon name={editing ? 'check' : 'send'} />
        </button>
      </div>
    </form>
  );
}

function MessageInfo({ chat, msg, onClose }: { chat: ChatOut; msg: MessageOut; onClose: () => void }) {
  const users = useStore((s) => s.users);
  const me = useStore((s) => s.me)!;
  const name = (id: Id) =>
    users[id]?.displayName || chat.participants.find((p) => p.id === id)?.displayName || '?';
  const others = (chat.readStates || []).filter((r) => r.userId !== me.id);
  const readBy = others.filter((r) => r.lastReadSeq >= msg.seq);
  const deliveredTo = others.filter((r) => r.lastReadSeq < msg.seq && r.lastDeliveredSeq >= msg.seq);
  return (
    <Dialog title={t('messageInfo')} onClose={onClose}>
      <blockquote class="quote">{msg.content.slice(0, 300)}</blockquote>
      <h3 class="section-label">{t('readBy')}</h3>
      <ul class="people compact" aria-label={t('readBy')}>
        {readBy.length ? (
          readBy.map((r) => (
            <li key={r.userId} class="person-row">
              <Avatar id={r.userId} name={name(r.userId)} size="sm" />
              <span class="person-name">{name(r.userId)}</span>
              <Icon name="doneAll" class="status status-read" />
            </li>
          ))
        ) : (
          <li class="muted">{t('nobodyYet')}</li>
        )}
      </ul>
      {deliveredTo.length > 0 && (
        <>
          <h3 class="section-label">{t('deliveredTo')}</h3>
          <ul class="people compact" aria-label={t('deliveredTo')}>
            {deliveredTo.map((r) => (
              <li key={r.userId} class="person-row">
                <Avatar id={r.userId} name={name(r.userId)} size="sm" />
                <span class="person-name">{name(r.userId)}</span>
                <Icon name="doneAll" class="status status-delivered" />
              </li>
            ))}
          </ul>
        </>
      )}
    </Dialog>
  );
}
