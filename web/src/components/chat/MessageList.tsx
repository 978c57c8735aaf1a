/**
 * The message log: day lines, the unread line, the bubbles (grouped by sender within
 * 5 minutes) and the pending ones from the outbox, with the paging hints above them.
 */
import type { JSX } from 'preact';
import { t } from '../../i18n';
import type { ChatOut, Id, MessageOut, OutboxItem, UserOut } from '../../types';
import { dayKey } from '../../ui';
import { CallEntry } from '../calls/CallEntry';
import { otherId } from '../ChatList';
import { MessageBubble, PendingBubble, statusOf, type OpenMenu } from './MessageBubble';
import { DayLine, UnreadLine } from './Separators';
import type { ChatScroll } from './useChatScroll';

const GROUP_MS = 5 * 60_000;

/** `b` (the later one) continues `a`'s group: same sender, same day, within 5 minutes. */
function sameGroup(a: MessageOut, b: MessageOut): boolean {
  return (
    a.senderId === b.senderId &&
    dayKey(a.createdAt) === dayKey(b.createdAt) &&
    Date.parse(b.createdAt) - Date.parse(a.createdAt) < GROUP_MS
  );
}

export function MessageList({
  chat,
  me,
  users,
  title,
  messages,
  pending,
  loaded,
  hasOlder,
  loadingOlder,
  editingId,
  scroll,
  onInfo,
  onMenu,
  onReply,
  selection,
}: {
  chat: ChatOut;
  me: UserOut;
  users: Record<Id, UserOut>;
  title: string;
  messages: MessageOut[];
  pending: OutboxItem[];
  /** Whether any page of this chat is loaded (an empty chat too). */
  loaded: boolean;
  hasOlder: boolean | undefined;
  loadingOlder: boolean | undefined;
  editingId: Id | undefined;
  scroll: ChatScroll;
  onInfo: (m: MessageOut) => void;
  onMenu: OpenMenu;
  onReply?: (m: MessageOut) => void;
  /** Messages chosen to forward (rich/useRichChat), while choosing. */
  selection?: { ids: Id[]; toggle: (m: MessageOut) => void } | null;
}) {
  const groupChat = chat.type !== 'private';
  const { unreadAfter } = scroll;
  const rows: JSX.Element[] = [];
  let prev: MessageOut | null = null;
  let sepShown = false;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const next = messages[i + 1];
    const newDay = !prev || dayKey(prev.createdAt) !== dayKey(m.createdAt);
    if (newDay) rows.push(<DayLine key={`d${m.seq}`} at={m.createdAt} />);
    const sameAsPrev = !newDay && !!prev && sameGroup(prev, m);
    const sameAsNext = !!next && sameGroup(m, next);
    const mine = m.senderId === me.id;
    // The line goes before the first unread message, once it is loaded.
    if (!sepShown && unreadAfter !== null && m.seq > unreadAfter && !mine && messages[0].seq <= unreadAfter + 1) {
      sepShown = true;
      rows.push(<UnreadLine key="unread" />);
    }
    if (m.kind === 'call' && m.call) {
      const peerId = groupChat ? undefined : otherId(chat, me.id);
      rows.push(<CallEntry key={m.seq} msg={m} meId={me.id} peerId={peerId} peerName={title} />);
      prev = m;
      continue;
    }
    rows.push(
      <MessageBubble
        key={m.seq}
        msg={m}
        mine={mine}
        status={mine ? statusOf(chat, me.id, m.seq) : undefined}
        senderName={users[m.senderId]?.displayName || m.sender.displayName || m.sender.username}
        showName={!sameAsPrev}
        showAvatar={!sameAsNext}
        groupChat={groupChat}
        tail={!sameAsNext}
        editing={editingId === m.id}
        onInfo={onInfo}
        onMenu={onMenu}
        onReply={onReply}
        selected={selection ? selection.ids.includes(m.id) : undefined}
        onSelect={selection?.toggle}
      />,
    );
    prev = m;
  }

  return (
    <div
      class="messages"
      ref={scroll.scroller}
      onScroll={scroll.onScroll}
      role="log"
      aria-label={title}
      aria-busy={!!loadingOlder}
      tabIndex={0}
    >
      <div class="messages-inner">
        {loaded && hasOlder ? (
          <div class="older-hint" role="status">
            {loadingOlder ? <span class="spinner" aria-hidden="true" /> : null}
            <span class="sr-only-if-idle">{t('loadingOlder')}</span>
          </div>
        ) : loaded && messages.length > 0 ? (
          <div class="start-hint">{t('startOfChat')}</div>
        ) : null}
        {loaded && !messages.length && !pending.length && <div class="empty-chat">{t('noMessages')}</div>}
        {rows}
        {pending.map((p) => (
          <PendingBubble key={p.clientMessageId} item={p} />
        ))}
      </div>
    </div>
  );
}
