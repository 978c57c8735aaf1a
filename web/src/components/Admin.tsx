import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { errorText, t } from '../i18n';
import { setState, toast, useStore } from '../store';
import type { InviteOut, UserOut } from '../types';
import { Avatar, Card, ConfirmDialog, dateTime, Dialog, IconButton, PageBar } from '../ui';
import { StorageCard } from './chat/media/StorageCard';
import { Field, FormError, PasswordField, TextField, useAction } from './form';

const EXPIRY: Record<string, number | null> = { '1d': 86400, '7d': 7 * 86400, '30d': 30 * 86400, never: null };

const TABS = [
  ['invites', 'invitations'],
  ['members', 'memberList'],
] as const;

export function joinLink(code: string): string {
  return `${location.origin}/join/${encodeURIComponent(code)}`;
}

async function copy(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  toast(t('copied'));
}

function QrDialog({ code, onClose }: { code: string; onClose: () => void }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    void import('qrcode-generator').then(({ default: qrcode }) => {
      const qr = qrcode(0, 'M');
      qr.addData(joinLink(code));
      qr.make();
      setSrc(qr.createDataURL(8, 4));
    });
  }, [code]);
  return (
    <Dialog title={t('showQr')} onClose={onClose}>
      <div class="qr-box">
        {src ? <img src={src} alt={joinLink(code)} class="qr-img" /> : <span class="spinner" aria-hidden="true" />}
        <code class="join-link">{joinLink(code)}</code>
      </div>
    </Dialog>
  );
}

export function Admin() {
  const users = useStore((s) => s.users);
  const [invites, setInvites] = useState<InviteOut[] | null>(null);
  const [limit, setLimit] = useState(1);
  const [expiry, setExpiry] = useState('7d');
  const [asAdmin, setAsAdmin] = useState(false);
  const { busy, error, setError, run } = useAction();
  const [qr, setQr] = useState<string | null>(null);
  const [resetFor, setResetFor] = useState<UserOut | null>(null);
  const [tab, setTab] = useState<'invites' | 'members'>('invites');
  const [createdId, setCreatedId] = useState<string | null>(null);
  const [confirmDeactivate, setConfirmDeactivate] = useState<UserOut | null>(null);

  const reload = () =>
    api<InviteOut[]>('GET', '/invitation-codes')
      .then((l) =>
        setInvites((old) => {
          const fresh = (old || []).filter((x) => !l.some((y) => y.id === x.id));
          return [...fresh, ...l.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))];
        }),
      )
      .catch((e) => setError(errorText((e as ApiError).code)));
  useEffect(() => void reload(), []);

  const create = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const body: Record<string, unknown> = { usageLimit: limit, isAdmin: asAdmin };
      if (EXPIRY[expiry]) body.expiresInSeconds = EXPIRY[expiry];
      const inv = await api<InviteOut>('POST', '/invitation-codes/generate', body);
      setInvites((l) => [inv, ...(l || []).filter((x) => x.id !== inv.id)]);
      setCreatedId(inv.id);
    });
  };

  const revoke = (inv: InviteOut) =>
    run(async () => {
      const res = await api<InviteOut>('DELETE', `/invitation-codes/${inv.id}`);
      if (res?.id) setInvites((l) => (l || []).map((x) => (x.id === res.id ? res : x)));
      else await reload();
    });

  const deactivate = (u: UserOut) => {
    void run(async () => {
      const res = await api<UserOut>('POST', `/users/${u.id}/deactivate`);
      setState((s) => ({ users: { ...s.users, [u.id]: res?.id ? res : { ...u, isActive: false } } }));
    });
  };

  const members = Object.values(users).sort((a, b) => a.displayName.localeCompare(b.displayName));

  return (
    <div class="page">
      <PageBar title={t('admin')} />
      <div class="tabs" role="tablist" aria-label={t('admin')}>
        {TABS.map(([id, label]) => (
          <button
            key={id}
            role="tab"
            type="button"
            id={`tab-${id}`}
            aria-controls={`panel-${id}`}
            aria-selected={tab === id}
            class={`tab ${tab === id ? 'on' : ''}`}
            onClick={() => setTab(id)}
          >
            {t(label)}
          </button>
        ))}
      </div>
      <div class="page-scroll">
        <FormError error={error} />
        {tab === 'invites' ? (
          <div id="panel-invites" role="tabpanel" aria-labelledby="tab-invites">
            <Card id="inv-new" title={t('createInvitation')}>
              <form class="form invite-form" onSubmit={create}>
                <div class="form-row">
                  <TextField
                    label={t('usageLimit')}
                    type="number"
                    name="usageLimit"
                    min={1}
                    max={1000}
                    value={limit}
                    onValue={(v) => setLimit(Math.max(1, Number(v) || 1))}
                  />
                  <Field label={t('expiresIn')}>
                    <select name="expiry" value={expiry} onChange={(e) => setExpiry(e.currentTarget.value)}>
                      <option value="1d">{t('expiry1d')}</option>
                      <option value="7d">{t('expiry7d')}</option>
                      <option value="30d">{t('expiry30d')}</option>
                      <option value="never">{t('expiryNever')}</option>
                    </select>
                  </Field>
                </div>
                <label class="check">
                  <input type="checkbox" checked={asAdmin} onChange={(e) => setAsAdmin(e.currentTarget.checked)} />
                  {t('adminInvite')}
                </label>
                <div class="row-end">
                  <button class="btn btn-filled" type="submit" disabled={busy}>
                    {t('createInvitation')}
                  </button>
                </div>
              </form>
            </Card>
            <Card id="inv-list" title={t('invitations')}>
              {invites && !invites.length && <p class="muted">{t('noInvitations')}</p>}
              <ul class="invites" role="list">
                {(invites || []).map((inv) => (
                  <li
                    key={inv.id}
                    class={`invite status-${inv.status} ${inv.id === createdId ? 'new' : ''}`}
                    data-code={inv.code}
                  >
                    <div class="invite-main">
                      <code class="invite-code">{inv.code}</code>
                      <span class={`chip chip-${inv.status}`}>{t(`status_${inv.status}`)}</span>
                      {inv.isAdmin && <span class="chip">{t('adminBadge')}</span>}
                      <div class="muted small">
                        {t('uses', { used: inv.usedCount, limit: inv.usageLimit })}
                        {inv.expiresAt && ` · ${t('expires', { when: dateTime(inv.expiresAt) })}`}
                      </div>
                    </div>
                    {inv.status === 'active' && (
                      <div class="invite-actions">
                        <IconButton icon="copy" label={t('copyLink')} onClick={() => void copy(joinLink(inv.code))} />
                        <IconButton icon="qr" label={t('showQr')} onClick={() => setQr(inv.code)} />
                        <IconButton icon="block" label={t('revoke')} disabled={busy} onClick={() => void revoke(inv)} />
                      </div>
                    )}
                  </li>
                ))}
              </ul>
            </Card>
          </div>
        ) : (
          <div id="panel-members" role="tabpanel" aria-labelledby="tab-members">
            <section class="card">
              <ul class="people" role="list">
                {members.map((u) => (
                  <li key={u.id} class={`person-row ${u.isActive ? '' : 'inactive'}`}>
                    <Avatar id={u.id} name={u.displayName} online={u.isOnline} size="sm" />
                    <span class="person-name">
                      {u.displayName}
                      <small class="muted">
                        @{u.username}
                        {u.isAdmin && ` · ${t('adminBadge')}`}
                        {!u.isActive && ` · ${t('deactivated')}`}
                      </small>
                    </span>
                    {u.isActive && (
                      <>
                        <IconButton icon="key" label={`${t('resetPassword')}: ${u.displayName}`} onClick={() => setResetFor(u)} />
                        <IconButton
                          icon="block"
                          label={`${t('deactivate')}: ${u.displayName}`}
                          disabled={busy}
                          onClick={() => setConfirmDeactivate(u)}
                        />
                      </>
                    )}
                  </li>
                ))}
              </ul>
            </section>
            <StorageCard />
          </div>
        )}
      </div>
      {qr && <QrDialog code={qr} onClose={() => setQr(null)} />}
      {resetFor && <ResetDialog user={resetFor} onClose={() => setResetFor(null)} />}
      {confirmDeactivate && (
        <ConfirmDialog
          text={t('deactivateConfirm', { name: confirmDeactivate.displayName })}
          confirmLabel={t('deactivate')}
          danger
          onConfirm={() => deactivate(confirmDeactivate)}
          onClose={() => setConfirmDeactivate(null)}
        />
      )}
    </div>
  );
}

function ResetDialog({ user, onClose }: { user: UserOut; onClose: () => void }) {
  const [pw, setPw] = useState('');
  const { error, setError, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    if (pw.length < 6) return setError(t('passwordHint'));
    void run(async () => {
      await api('POST', `/users/${user.id}/reset-password`, { newPassword: pw });
      toast(t('passwordReset'));
      onClose();
    });
  };
  return (
    <Dialog
      title={t('resetPassword')}
      onClose={onClose}
      actions={
        <>
          <button class="btn btn-text" type="button" onClick={onClose}>
            {t('cancel')}
          </button>
          <button class="btn btn-filled" type="submit" form="reset-form">
            {t('save')}
          </button>
        </>
      }
    >
      <form id="reset-form" class="form" onSubmit={submit}>
        {/* The label names the member; no hint line in this small dialog. */}
        <PasswordField isNew hint={null} label={t('resetPasswordFor', { name: user.displayName })} value={pw} onValue={setPw} />
        <FormError error={error} />
      </form>
    </Dialog>
  );
}
