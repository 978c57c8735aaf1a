/** The chat's top bar: back, avatar, title, and who is typing / online / last seen. */
import { membersLabel, t } from '../../i18n';
import { goBack, type TypingEntry } from '../../store';
import type { ChatOut, Id, UserOut } from '../../types';
import { Avatar, IconButton, lastSeenText } from '../../ui';
import { otherId, typingText } from '../ChatList';
import { CallButtons } from '../calls/CallButtons';

export function ChatHeader({
  chat,
  me,
  users,
  title,
  typing,
  onInfo,
  onSearch,
}: {
  chat: ChatOut;
  me: UserOut;
  users: Record<Id, UserOut>;
  title: string;
  typing: Record<Id, TypingEntry> | undefined;
  onInfo: () => void;
  onSearch: () => void;
}) {
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
  return (
    <header class="topbar chat-topbar">
      <IconButton icon="back" label={t('back')} onClick={goBack} class="back-btn" />
      <button class="chat-head" type="button" onClick={onInfo} aria-label={`${t('chatInfo')}: ${title}`}>
        <Avatar id={oid || chat.id} name={title} online={other?.isOnline} group={groupChat} />
        <span class="chat-head-text">
          <span class="chat-head-title">{title}</span>
          <span class={`chat-head-sub ${typingNow ? 'typing' : ''}`} aria-live="polite">
            {subtitle}
          </span>
        </span>
      </button>
      <CallButtons peerId={oid} title={title} chatId={chat.id} group={groupChat} />
      <IconButton icon="search" label={t('searchInChat')} onClick={onSearch} />
      <IconButton icon="info" label={t('chatInfo')} onClick={onInfo} />
    </header>
  );
}
