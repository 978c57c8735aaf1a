/**
 * One open chat: the header, the message log, the ↓ button, the composer, and the
 * dialogs (chat info, message info, the message menu, delete confirmation). The parts
 * live beside it in this folder; where the log is scrolled is useChatScroll's.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ApiError } from '../../api';
import { useCall } from '../../calls/state';
import { deleteMessage, fillChat, loadLatest } from '../../chats';
import { errorText, t } from '../../i18n';
import { goBack, toast, useStore } from '../../store';
import type { Id, MessageOut } from '../../types';
import { ConfirmDialog, Icon, PageBar } from '../../ui';
import { ChatInfoDialog } from '../ChatInfo';
import { chatTitle } from '../ChatList';
import { SearchPanel } from '../Search';
import { ChatHeader } from './ChatHeader';
import { Composer } from './Composer';
import { MessageInfo } from './MessageInfo';
import { MessageList } from './MessageList';
import { MessageMenu, type MenuItem } from './MessageMenu';
import { useRichChat } from './rich/useRichChat';
import { useChatScroll } from './useChatScroll';

const EMPTY: MessageOut[] = [];

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

  const [infoOpen, setInfoOpen] = useState(false);
  // A call placed or answered takes the screen: Chat info (where a member's call button may
  // have started it) is not left open behind it to come back to after hanging up.
  const call = useCall();
  const calling = call !== null && call.phase !== 'incoming';
  useEffect(() => {
    if (calling) setInfoOpen(false);
  }, [calling]);
  const [searching, setSearching] = useState(false);
  const [msgInfo, setMsgInfo] = useState<MessageOut | null>(null);
  const [menu, setMenu] = useState<{ msg: MessageOut; anchor: HTMLElement; trigger: HTMLElement | null } | null>(null);
  const [editing, setEditing] = useState<MessageOut | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<MessageOut | null>(null);
  const rich = useRichChat(chat, me);
  const scroll = useChatScroll({ chatId, chat, messages, pendingCount: pending.length, hasOlder, loadingOlder });
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

  // The message being edited, or answered, was deleted meanwhile (by an admin, or on
  // another device): nothing is left to edit or quote.
  useEffect(() => {
    if (editing && messages.find((m) => m.id === editing.id)?.deletedAt) setEditing(null);
  }, [messages, editing]);
  const replyTo = rich.replyTo && (messages.find((m) => m.id === rich.replyTo!.id) ?? rich.replyTo);
  useEffect(() => {
    if (replyTo?.deletedAt) rich.setReplyTo(null);
  }, [replyTo?.deletedAt]);

  // Escape leaves the chat (dialogs handle their own Escape first).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented && !document.querySelector('dialog[open]')) goBack();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  if (!chat) {
    return (
      <div class="chat-view">
        <PageBar title={chatsLoaded ? t('err.NOT_FOUND') : '…'} />
      </div>
    );
  }

  const title = chatTitle(chat, { me, users });

  const menuItems = (m: MessageOut): MenuItem[] => {
    const mine = m.senderId === me.id;
    const items: MenuItem[] = [];
    if (mine) items.push({ label: t('edit'), icon: 'edit', run: () => setEditing(m) });
    items.push(...rich.menuItems(m));
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

  return (
    <div class="chat-view">
      <ChatHeader chat={chat} me={me} users={users} title={title} typing={typing} onInfo={() => setInfoOpen(true)} onSearch={() => setSearching(true)} />
      {searching && <SearchPanel chatId={chatId} onClose={() => setSearching(false)} />}
      {rich.pinBar}
      <MessageList
        chat={chat}
        me={me}
        users={users}
        title={title}
        messages={messages}
        pending={pending}
        loaded={loadedAny}
        hasOlder={hasOlder}
        loadingOlder={loadingOlder}
        editingId={editing?.id}
        scroll={scroll}
        onInfo={setMsgInfo}
        onMenu={openMenu}
        onReply={rich.setReplyTo}
        selection={rich.selection}
      />
      {scroll.showDown && (
        <button type="button" class="fab fab-small scroll-down" aria-label={t('scrollToBottom')} onClick={scroll.jumpToBottom}>
          <Icon name="down" />
          {chat.unreadCount > 0 && <span class="badge">{chat.unreadCount}</span>}
        </button>
      )}
      {rich.selectionBar}
      <Composer
        chatId={chatId}
        onSent={scroll.stickToBottom}
        editing={editing}
        replyTo={replyTo}
        onReplyDone={() => rich.setReplyTo(null)}
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
          header={rich.menuHeader(menu.msg, () => setMenu(null))}
          onClose={() => setMenu(null)}
        />
      )}
      {rich.dialogs}
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
