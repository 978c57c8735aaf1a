import { useState } from 'preact/hooks';
import { api } from '../api';
import { upsertChat } from '../chats';
import { t } from '../i18n';
import { navigate, useStore } from '../store';
import type { ChatOut, Id, UserOut } from '../types';
import { Avatar, Dialog, lastSeenText, ListAction } from '../ui';
import { FormError, TextField, useAction } from './form';

export function MemberPicker(props: { users: UserOut[]; selected: Set<Id>; onToggle: (id: Id) => void; label: string }) {
  return (
    <fieldset class="picker">
      <legend class="section-label">{props.label}</legend>
      {props.users.map((u) => (
        <label key={u.id} class="person-row selectable">
          <Avatar id={u.id} name={u.displayName} online={u.isOnline} size="sm" />
          <span class="person-name">
            {u.displayName}
            <small class="muted">@{u.username}</small>
          </span>
          <input
            type="checkbox"
            checked={props.selected.has(u.id)}
            onChange={() => props.onToggle(u.id)}
            aria-label={u.displayName}
          />
        </label>
      ))}
    </fieldset>
  );
}

export function activeUsers(users: Record<Id, UserOut>): UserOut[] {
  return Object.values(users)
    .filter((u) => u.isActive !== false)
    .sort((a, b) => a.displayName.localeCompare(b.displayName));
}

export function NewChatDialog({ onClose }: { onClose: () => void }) {
  const users = activeUsers(useStore((s) => s.users));
  const [mode, setMode] = useState<'pick' | 'group'>('pick');
  const [name, setName] = useState('');
  const [selected, setSelected] = useState<Set<Id>>(new Set());
  const { busy, error, run } = useAction();

  const open = (c: ChatOut) => {
    upsertChat(c);
    onClose();
    navigate({ name: 'chat', id: c.id });
  };

  const startPrivate = (id: Id) => run(async () => open(await api<ChatOut>('POST', '/chats/private', { targetUserId: id })));

  const createGroup = (e: Event) => {
    e.preventDefault();
    if (!name.trim()) return;
    void run(async () => open(await api<ChatOut>('POST', '/chats', { name: name.trim(), participantIds: [...selected] })));
  };

  const toggle = (id: Id) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };

  if (mode === 'group')
    return (
      <Dialog
        title={t('newGroup')}
        onClose={onClose}
        actions={
          <>
            <button class="btn btn-text" type="button" onClick={() => setMode('pick')}>
              {t('back')}
            </button>
            <button class="btn btn-filled" type="submit" form="new-group-form" disabled={busy || !name.trim()}>
              {t('create')}
            </button>
          </>
        }
      >
        <form id="new-group-form" class="form" onSubmit={createGroup}>
          <TextField label={t('groupName')} name="groupName" required maxLength={100} value={name} onValue={setName} autoFocus />
          {users.length ? (
            <MemberPicker users={users} selected={selected} onToggle={toggle} label={t('selectMembers')} />
          ) : (
            <p class="muted">{t('noOtherMembers')}</p>
          )}
          <FormError error={error} />
        </form>
      </Dialog>
    );

  return (
    <Dialog title={t('newChat')} onClose={onClose}>
      <ListAction icon="group" onClick={() => setMode('group')}>
        {t('newGroup')}
      </ListAction>
      <h3 class="section-label">{t('familyMembers')}</h3>
      {!users.length && <p class="muted">{t('noOtherMembers')}</p>}
      <ul class="people" role="list">
        {users.map((u) => (
          <li key={u.id}>
            <button
              class="person-row"
              type="button"
              disabled={busy}
              onClick={() => startPrivate(u.id)}
              aria-label={t('openChat', { name: u.displayName })}
            >
              <Avatar id={u.id} name={u.displayName} online={u.isOnline} size="sm" />
              <span class="person-name">
                {u.displayName}
                <small class="muted">{u.isOnline ? t('online') : lastSeenText(u.lastSeenAt ?? null)}</small>
              </span>
            </button>
          </li>
        ))}
      </ul>
      <FormError error={error} />
    </Dialog>
  );
}
