import { useState } from 'preact/hooks';
import { api } from '../api';
import { removeChat, upsertChat } from '../chats';
import { membersLabel, t } from '../i18n';
import { useStore } from '../store';
import type { ChatOut, Id } from '../types';
import { Avatar, ConfirmDialog, Dialog, IconButton, lastSeenText, ListAction } from '../ui';
import { CallButtons } from './calls/CallButtons';
import { chatTitle } from './ChatList';
import { MediaGallery } from './chat/media/MediaGallery';
import { tm } from '../media/i18n';
import { FormError, TextField, useAction } from './form';
import { activeUsers, MemberPicker } from './NewChat';
import { ChatMuteControl } from './Push';

export function ChatInfoDialog({ chat, onClose }: { chat: ChatOut; onClose: () => void }) {
  const me = useStore((s) => s.me)!;
  const users = useStore((s) => s.users);
  const [name, setName] = useState(chat.name);
  const [adding, setAdding] = useState(false);
  const [selected, setSelected] = useState<Set<Id>>(new Set());
  const { busy, error, run } = useAction();
  const [confirmLeave, setConfirmLeave] = useState(false);
  const [media, setMedia] = useState(false);
  const isGroup = chat.type === 'group';

  const rename = (e: Event) => {
    e.preventDefault();
    if (!name.trim() || name.trim() === chat.name) return;
    void run(async () => upsertChat(await api<ChatOut>('PATCH', `/chats/${chat.id}`, { name: name.trim() })));
  };

  const removeMember = (id: Id) =>
    run(async () => {
      const res = await api<ChatOut | undefined>('DELETE', `/chats/${chat.id}/participants/${id}`);
      if (id === me.id) {
        removeChat(chat.id);
        onClose();
      } else if (res && (res as ChatOut).id) upsertChat(res as ChatOut);
      else upsertChat(await api<ChatOut>('GET', `/chats/${chat.id}`));
    });

  const addMembers = () =>
    run(async () => {
      const res = await api<ChatOut | undefined>('POST', `/chats/${chat.id}/participants`, { userIds: [...selected] });
      upsertChat(res && (res as ChatOut).id ? (res as ChatOut) : await api<ChatOut>('GET', `/chats/${chat.id}`));
      setAdding(false);
      setSelected(new Set());
    });

  const candidates = activeUsers(users).filter((u) => !chat.participantIds.includes(u.id));
  const people = chat.participantIds
    .map((id) => {
      const u = id === me.id ? me : users[id];
      const brief = chat.participants.find((p) => p.id === id);
      return { id, name: u?.displayName || brief?.displayName || brief?.username || '?', user: u };
    })
    .sort((a, b) => (a.id === me.id ? -1 : b.id === me.id ? 1 : a.name.localeCompare(b.name)));

  return (
    <Dialog title={chatTitle(chat, { me, users })} onClose={onClose}>
      <p class="muted">{membersLabel(chat.participantIds.length)}</p>
      <ChatMuteControl chatId={chat.id} />
      <ListAction icon="chat" onClick={() => setMedia(true)}>
        {tm('mediaAndFiles')}
      </ListAction>
      {media && <MediaGallery chatId={chat.id} title={chatTitle(chat, { me, users })} onClose={() => setMedia(false)} />}
      {isGroup && (
        <form class="inline-form" onSubmit={rename}>
          <TextField grow label={t('groupName')} value={name} maxLength={100} required onValue={setName} />
          <button class="btn btn-tonal" type="submit" disabled={busy || !name.trim() || name.trim() === chat.name}>
            {t('rename')}
          </button>
        </form>
      )}
      <h3 class="section-label">{t('participants')}</h3>
      <ul class="people" role="list">
        {people.map((p) => (
          <li key={p.id} class="person-row">
            <Avatar id={p.id} name={p.name} online={p.id !== me.id && p.user?.isOnline} size="sm" />
            <span class="person-name">
              {p.id === me.id ? `${p.name} (${t('you')})` : p.name}
              {p.id !== me.id && (
                <small class="muted">{p.user?.isOnline ? t('online') : lastSeenText(p.user?.lastSeenAt ?? null)}</small>
              )}
            </span>
            {p.id !== me.id && p.user?.isActive !== false && <CallButtons peerId={p.id} title={p.name} />}
            {isGroup && p.id !== me.id && (
              <IconButton
                icon="personRemove"
                label={t('removeMember', { name: p.name })}
                disabled={busy}
                onClick={() => removeMember(p.id)}
              />
            )}
          </li>
        ))}
      </ul>
      {isGroup && !adding && candidates.length > 0 && (
        <ListAction icon="personAdd" onClick={() => setAdding(true)}>
          {t('addMembers')}
        </ListAction>
      )}
      {isGroup && adding && (
        <div class="stack">
          <MemberPicker
            users={candidates}
            selected={selected}
            label={t('addMembers')}
            onToggle={(id) => {
              const n = new Set(selected);
              if (n.has(id)) n.delete(id);
              else n.add(id);
              setSelected(n);
            }}
          />
          <div class="row-end">
            <button class="btn btn-text" type="button" onClick={() => setAdding(false)}>
              {t('cancel')}
            </button>
            <button class="btn btn-filled" type="button" disabled={busy || !selected.size} onClick={addMembers}>
              {t('addMembers')}
            </button>
          </div>
        </div>
      )}
      {isGroup && (
        <ListAction danger icon="logout" disabled={busy} onClick={() => setConfirmLeave(true)}>
          {t('leaveGroup')}
        </ListAction>
      )}
      <FormError error={error} />
      {confirmLeave && (
        <ConfirmDialog
          text={t('leaveConfirm', { name: chat.name })}
          confirmLabel={t('leaveGroup')}
          danger
          onConfirm={() => void removeMember(me.id)}
          onClose={() => setConfirmLeave(false)}
        />
      )}
    </Dialog>
  );
}
