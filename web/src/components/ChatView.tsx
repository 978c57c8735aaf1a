import { Component, type RefObject } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { discard, fillChat, loadLatest, loadOlder, markRead, retry, send } from '../chats';
import { membersLabel, t } from '../i18n';
import { emitQuiet } from '../realtime';
import { getState, goBack, useStore } from '../store';
import type { ChatOut, Id, MessageOut, OutboxItem } from '../types';
import { Avatar, hashIndex, dayKey, dayLabel, Dialog, Icon, IconButton, lastSeenText, linkify, timeOf } from '../ui';
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
  onInfo?: (m: MessageOut) => void;
}

/** One message; re-renders only when its own props change. */
class MessageRow extends Component<RowProps> {
  shouldComponentUpdate(next: RowProps): boolean {
    const p = this.props;
    return (
      p.msg !== next.msg ||
      p.status !== next.status ||
      p.senderName !== next.senderName ||
      p.showName !== next.showName ||
      p.showAvatar !== next.showAvatar ||
      p.tail !== next.tail
    );
  }
  render({ msg, mine, status, senderName, showName, showAvatar, groupChat, tail, onInfo }: RowProps) {
    const time = timeOf(msg.createdAt);
    return (
      <div
        class={`msg-row ${mine ? 'mine' : 'theirs'} ${tail ? 'tail' : ''}`}
        data-seq={msg.seq}
        data-message-id={msg.id}
      >
        {!mine && groupChat && (
          <div class="msg-avatar">{showAvatar && <Avatar id={msg.senderId} name={senderName} size="sm" />}</div>
        )}
        <div class="bubble">
          {showName && !mine && groupChat && <div class={`sender-name snc-${hashIndex(msg.senderId, 8)}`}>{senderName}</div>}
          <div class="msg-text" dir="auto">
            {linkify(msg.content)}
          </div>
          <span class="msg-meta">
            <time dateTime={msg.createdAt}>{time}</time>
            {mine && status && (
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
        </div>
      </div>
    );
  }
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
  const anchor = useRef<{ height: number; top: number } | null>(null);
  const [showDown, setShowDown] = useState(false);
  const [infoOpen, setInfoOpen] = useState(false);
  const [msgInfo, setMsgInfo] = useState<MessageOut | null>(null);

  // Load (or catch up) when the chat opens.
  useEffect(() => {
    const s = loadedAny;
    if (!s) void loadLatest(chatId).catch(() => undefined);
    else void fillChat(chatId).catch(() => undefined);
    atBottom.current = true;
  }, [chatId]);

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
    if (anchor.current && prevFirstSeq.current !== null && first !== null && first < prevFirstSeq.current) {
      // Older messages were prepended: keep what the reader looks at in place.
      el.scrollTop = anchor.current.top + (el.scrollHeight - anchor.current.height);
      anchor.current = null;
    } else if (atBottom.current || pending.length > prevPending.current) {
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
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

  const requestOlder = () => {
    const el = scroller.current;
    if (!el || getState().loadingOlder[chatId] || !getState().hasOlder[chatId]) return;
    anchor.current = { height: el.scrollHeight, top: el.scrollTop };
    void loadOlder(chatId).catch(() => undefined);
  };

  const onScroll = () => {
    const el = scroller.current!;
    atBottom.current = isNearBottom(el);
    if (atBottom.current) {
      setShowDown(false);
      tryMarkRead();
    }
    if (getState().loadingOlder[chatId]) anchor.current = { height: el.scrollHeight, top: el.scrollTop };
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

  const rows: preact.JSX.Element[] = [];
  let prev: MessageOut | null = null;
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
        onInfo={setMsgInfo}
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
      <Composer chatId={chatId} scroller={scroller} atBottom={atBottom} />
      {infoOpen && <ChatInfoDialog chat={chat} onClose={() => setInfoOpen(false)} />}
      {msgInfo && <MessageInfo chat={chat} msg={msgInfo} onClose={() => setMsgInfo(null)} />}
    </div>
  );
}

function Composer({
  chatId,
  scroller,
  atBottom,
}: {
  chatId: Id;
  scroller: RefObject<HTMLDivElement | null>;
  atBottom: { current: boolean };
}) {
  const [text, setText] = useState(drafts.get(chatId) || '');
  const lastTyping = useRef(0);
  const ref = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    // Focus the composer on desktop when a chat opens.
    if (window.matchMedia('(min-width: 840px)').matches) ref.current?.focus();
    return () => stopTyping();
  }, [chatId]);

  const stopTyping = () => {
    if (lastTyping.current) {
      emitQuiet('typing', { chatId, isTyping: false });
      lastTyping.current = 0;
    }
  };

  const submit = () => {
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
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <textarea
        ref={ref}
        rows={1}
        name="message"
        class="composer-input"
        placeholder={t('messagePlaceholder')}
        aria-label={t('messagePlaceholder')}
        maxLength={4000}
        value={text}
        enterkeyhint="send"
        onInput={(e) => {
          const v = e.currentTarget.value;
          setText(v);
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
          }
        }}
        onBlur={stopTyping}
      />
      <button class="send-btn" type="submit" aria-label={t('send')} title={t('send')} disabled={!text.trim()}>
        <Icon name="send" />
      </button>
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
