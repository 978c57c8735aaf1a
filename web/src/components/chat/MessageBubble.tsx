/** One message bubble (memoised), a pending one from the outbox, and the ticks. */
import { Component } from 'preact';
import { discard, retry } from '../../chats';
import { t } from '../../i18n';
import type { ChatOut, Id, MessageOut, OutboxItem } from '../../types';
import { mentionsMe } from '../../rich';
import { Avatar, hashIndex, Icon, IconButton, linkify, timeOf } from '../../ui';
import { Attachments, captionOf } from './media/Attachments';
import { PendingAttachments } from './media/PendingAttachments';
import { ReactionBar } from './rich/ReactionBar';
import { RichTop } from './rich/ReplyQuote';
import { SwipeToReply } from './rich/swipe';

export type Status = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

/** The ticks of my message: read or delivered by anyone else, or just sent. */
export function statusOf(chat: ChatOut, meId: Id, seq: number): Status {
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

export type OpenMenu = (m: MessageOut, anchor: HTMLElement, trigger: HTMLElement | null) => void;

interface BubbleProps {
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
  onMenu?: OpenMenu;
  onReply?: (m: MessageOut) => void;
  /** Selection mode (forwarding several): a tap toggles this message. */
  selected?: boolean;
  onSelect?: (m: MessageOut) => void;
}

const LONG_PRESS_MS = 500;

/** One message; re-renders only when its own props change. */
export class MessageBubble extends Component<BubbleProps> {
  private press: { timer: ReturnType<typeof setTimeout>; x: number; y: number } | null = null;
  private pressed = false;
  private swipe = new SwipeToReply(() => this.props.onReply?.(this.props.msg));

  shouldComponentUpdate(next: BubbleProps): boolean {
    const p = this.props;
    return (
      p.msg !== next.msg ||
      p.status !== next.status ||
      p.senderName !== next.senderName ||
      p.showName !== next.showName ||
      p.showAvatar !== next.showAvatar ||
      p.tail !== next.tail ||
      p.editing !== next.editing ||
      p.selected !== next.selected ||
      p.onSelect !== next.onSelect
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
    if (this.props.onReply && !this.props.msg.deletedAt) this.swipe.down(e);
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
    this.swipe.move(e);
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
    if (this.props.onSelect) {
      e.preventDefault();
      e.stopPropagation();
      if (!this.props.msg.deletedAt) this.props.onSelect(this.props.msg);
      return;
    }
    if (this.pressed) {
      e.preventDefault();
      e.stopPropagation();
      this.pressed = false;
    }
  };

  render({ msg, mine, status, senderName, showName, showAvatar, groupChat, tail, editing, onInfo, onMenu }: BubbleProps) {
    const time = timeOf(msg.createdAt);
    const deleted = !!msg.deletedAt;
    return (
      <div
        class={`msg-row ${mine ? 'mine' : 'theirs'} ${tail ? 'tail' : ''} ${deleted ? 'deleted' : ''} ${editing ? 'editing' : ''} ${mentionsMe(msg) ? 'mentioned' : ''} ${this.props.selected ? 'selected' : ''}`}
        aria-selected={this.props.onSelect ? !!this.props.selected : undefined}
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
          onPointerUp={(e) => {
            this.swipe.up(e);
            this.cancelPress();
          }}
          onPointerCancel={() => {
            this.swipe.reset();
            this.cancelPress();
          }}
          onContextMenu={this.onContextMenu}
          onClickCapture={this.onClickCapture}
        >
          {showName && !mine && groupChat && <div class={`sender-name snc-${hashIndex(msg.senderId, 8)}`}>{senderName}</div>}
          {!deleted && <RichTop msg={msg} />}
          {deleted ? (
            <div class="msg-text msg-deleted">
              <Icon name="block" />
              {t('messageDeleted')}
            </div>
          ) : (
            <>
              <Attachments msg={msg} />
              {captionOf(msg) && (
                <div class="msg-text" dir="auto">
                  {linkify(captionOf(msg))}
                </div>
              )}
            </>
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
          <ReactionBar msg={msg} />
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

/** A message from the outbox: ⏱ while queued or sending, Retry and Remove once refused. */
export function PendingBubble({ item }: { item: OutboxItem }) {
  const failed = item.state === 'failed';
  return (
    <div class={`msg-row mine tail pending ${failed ? 'failed' : ''}`} data-client-id={item.clientMessageId}>
      <div class="bubble">
        <PendingAttachments item={item} />
        {item.content && (
          <div class="msg-text" dir="auto">
            {item.content}
          </div>
        )}
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
