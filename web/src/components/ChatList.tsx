import { useState } from 'preact/hooks';
import { sortedChats } from '../chats';
import { t } from '../i18n';
import { navigate, routeHash, useStore, type State } from '../store';
import type { ChatOut, Id } from '../types';
import { Avatar, Icon, IconButton, shortWhen } from '../ui';
import { describeCall } from './calls/CallEntry';
import { NewChatDialog } from './NewChat';
import { MentionBadge } from './chat/rich/MentionBadge';
import { SearchPanel } from './Search';

export function chatTitle(chat: ChatOut, s: Pick<State, 'me' | 'users'>): string {
  // The family chat's default name follows the interface language.
  if (chat.type === 'family' && (!chat.name || chat.name === 'Family' || chat.name === 'Семья')) return t('familyChat');
  if (chat.type === 'private') {
    const other = chat.participants.find((p) => p.id !== s.me?.id);
    if (other) return s.users[other.id]?.displayName || other.displayName || other.username;
  }
  return chat.name || t('familyChat');
}

export function otherId(chat: ChatOut, meId: Id | undefined): Id | undefined {
  return chat.type === 'private' ? chat.participantIds.find((id) => id !== meId) : undefined;
}

export function typingText(entries: Record<Id, { name: string }> | undefined): string | null {
  const names = Object.values(entries || {}).map((e) => e.name);
  if (!names.length) return null;
  if (names.length === 1) return t('typing1', { a: names[0] });
  if (names.length === 2) return t('typing2', { a: names[0], b: names[1] });
  return t('typingMany');
}

export function ChatList() {
  const chats = useStore((s) => s.chats);
  const me = useStore((s) => s.me);
  const users = useStore((s) => s.users);
  const typing = useStore((s) => s.typing);
  const route = useStore((s) => s.route);
  const outbox = useStore((s) => s.outbox);
  const loaded = useStore((s) => s.chatsLoaded);
  const [newOpen, setNewOpen] = useState(false);
  const [searching, setSearching] = useState(false);
  const list = sortedChats(chats);
  const activeId = route.name === 'chat' ? route.id : null;

  return (
    <div class="list-pane">
      <header class="topbar">
        <h1 class="topbar-title">{t('chats')}</h1>
        <IconButton icon="search" label={t('searchMessages')} onClick={() => setSearching(true)} />
        {me?.isAdmin && (
          <IconButton icon="shield" label={t('admin')} onClick={() => navigate({ name: 'admin' })} />
        )}
        <IconButton icon="settings" label={t('settings')} onClick={() => navigate({ name: 'settings' })} />
      </header>
      {searching && <SearchPanel titleOf={(c) => chatTitle(c, { me, users })} onClose={() => setSearching(false)} />}
      <nav class="chat-list-scroll" aria-label={t('chats')} hidden={searching}>
        {loaded && !list.length && <p class="empty-hint">{t('noChats')}</p>}
        {!loaded && !list.length && (
          <div class="skeletons" aria-hidden="true">
            {[0, 1, 2, 3].map((i) => (
              <div key={i} class="skeleton-row" />
            ))}
          </div>
        )}
        <ul class="chat-list" role="list">
          {list.map((c) => {
            const title = chatTitle(c, { me, users });
            const oid = otherId(c, me?.id);
            const online = oid ? users[oid]?.isOnline : false;
            const typingNow = typingText(typing[c.id]);
            const pending = outbox.filter((o) => o.chatId === c.id);
            const lastPending = pending[pending.length - 1];
            const lm = c.lastMessage;
            let preview: string | preact.JSX.Element = '';
            let prefix = '';
            if (lastPending && (!lm || lastPending.createdAt > lm.createdAt)) {
              prefix = t('you') + ': ';
              preview = lastPending.content.slice(0, 140);
            } else if (lm) {
              if (lm.senderId === me?.id) prefix = t('you') + ': ';
              else if (c.type !== 'private') prefix = (users[lm.senderId]?.displayName || lm.sender.displayName) + ': ';
              preview = lm.deletedAt ? <i class="preview-deleted">{t('messageDeleted')}</i> : lm.content.slice(0, 140);
              // A call entry reads from my side ("Missed call"), not the caller's fallback text.
              if (lm.call && me && !lm.deletedAt) [prefix, preview] = ['', describeCall(lm.call, me.id, c.type !== 'private').text];
            }
            const when = lastPending?.createdAt || lm?.createdAt;
            const unread = c.unreadCount > 0;
            return (
              <li key={c.id}>
                <a
                  class={`chat-item ${activeId === c.id ? 'active' : ''} ${unread ? 'unread' : ''}`}
                  href={routeHash({ name: 'chat', id: c.id })}
                  aria-current={activeId === c.id ? 'page' : undefined}
                  data-chat-id={c.id}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate({ name: 'chat', id: c.id }, activeId !== null);
                  }}
                >
                  <Avatar id={oid || c.id} name={title} online={online} group={c.type !== 'private'} />
                  <span class="chat-item-main">
                    <span class="chat-item-top">
                      <span class="chat-item-title">{title}</span>
                      {when && <time class="chat-item-time">{shortWhen(when)}</time>}
                    </span>
                    <span class="chat-item-bottom">
                      {typingNow ? (
                        <span class="chat-item-preview typing">{typingNow}</span>
                      ) : (
                        <span class="chat-item-preview">
                          {prefix && <span class="preview-prefix">{prefix}</span>}
                          {preview}
                        </span>
                      )}
                      {!!c.unreadMentions && !lastPending && <MentionBadge n={c.unreadMentions} />}
                      {lastPending ? (
                        <Icon name={lastPending.state === 'failed' ? 'error' : 'clock'} class="chat-item-state" />
                      ) : unread ? (
                        <span class="badge" aria-label={t('unread', { n: c.unreadCount })}>
                          {c.unreadCount > 999 ? '999+' : c.unreadCount}
                        </span>
                      ) : null}
                    </span>
                  </span>
                </a>
              </li>
            );
          })}
        </ul>
      </nav>
      <button class="fab" type="button" aria-label={t('newChat')} title={t('newChat')} onClick={() => setNewOpen(true)}>
        <Icon name="edit" />
      </button>
      {newOpen && <NewChatDialog onClose={() => setNewOpen(false)} />}
    </div>
  );
}
