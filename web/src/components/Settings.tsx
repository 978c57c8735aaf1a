import { useEffect, useState } from 'preact/hooks';
import { canInstall, onInstallChange, promptInstall } from '../install';
import { api, logout, updateSessionUser } from '../api';
import { langPref, setLangPref, t, type LangPref } from '../i18n';
import { navigate, setState, toast, useStore } from '../store';
import { setThemePref, themePref, type ThemePref } from '../theme';
import type { UserOut } from '../types';
import { Avatar, Card, ListAction, PageBar } from '../ui';
import { Field, FormError, PasswordField, TextField, useAction } from './form';
import { NotificationSettings } from './Push';

export function Settings() {
  const me = useStore((s) => s.me)!;
  const [name, setName] = useState(me.displayName);
  const [cur, setCur] = useState('');
  const [next, setNext] = useState('');
  const [theme, setTheme] = useState<ThemePref>(themePref());
  const [lng, setLng] = useState<LangPref>(langPref());
  const nameForm = useAction();
  const pwForm = useAction();
  const busy = nameForm.busy || pwForm.busy;
  const [installable, setInstallable] = useState(canInstall());
  useEffect(() => onInstallChange(() => setInstallable(canInstall())), []);

  const saveName = (e: Event) => {
    e.preventDefault();
    void nameForm.run(async () => {
      const u = await api<UserOut>('PATCH', '/users/profile', { displayName: name.trim() });
      setState({ me: u });
      updateSessionUser(u);
      toast(t('saved'));
    });
  };

  const changePw = (e: Event) => {
    e.preventDefault();
    pwForm.setError(null);
    if (next.length < 6) return pwForm.setError(t('passwordHint'));
    void pwForm.run(async () => {
      await api('POST', '/users/profile/password', { currentPassword: cur, newPassword: next });
      setCur('');
      setNext('');
      toast(t('passwordChanged'));
    });
  };

  return (
    <div class="page">
      <PageBar title={t('settings')} />
      <div class="page-scroll">
        <section class="card profile-card" aria-label={t('profile')}>
          <Avatar id={me.id} name={me.displayName} size="lg" />
          <div>
            <div class="profile-name">{me.displayName}</div>
            <div class="muted">
              @{me.username}
              {me.isAdmin && <span class="chip">{t('adminBadge')}</span>}
            </div>
          </div>
        </section>

        <Card id="s-profile" title={t('profile')}>
          <form class="inline-form" onSubmit={saveName}>
            <TextField grow label={t('displayName')} name="displayName" value={name} maxLength={64} required onValue={setName} />
            <button class="btn btn-tonal" type="submit" disabled={busy || !name.trim() || name.trim() === me.displayName}>
              {t('save')}
            </button>
          </form>
          <FormError error={nameForm.error} />
        </Card>

        <Card id="s-look" title={t('appearance')}>
          <fieldset class="segmented" role="radiogroup" aria-label={t('theme')}>
            <legend class="field-label">{t('theme')}</legend>
            {(['system', 'light', 'dark'] as ThemePref[]).map((p) => (
              <label key={p} class={`seg ${theme === p ? 'on' : ''}`}>
                <input
                  type="radio"
                  name="theme"
                  value={p}
                  checked={theme === p}
                  onChange={() => {
                    setTheme(p);
                    setThemePref(p);
                  }}
                />
                {p === 'system' ? t('themeSystem') : p === 'light' ? t('themeLight') : t('themeDark')}
              </label>
            ))}
          </fieldset>
          <Field label={t('language')}>
            <select
              name="language"
              value={lng}
              onChange={(e) => {
                const v = e.currentTarget.value as LangPref;
                setLng(v);
                setLangPref(v);
                // Everything re-renders in the new language.
                setState({});
                setState((s) => ({ chats: { ...s.chats } }));
              }}
            >
              <option value="auto">{t('languageAuto')}</option>
              <option value="en">English</option>
              <option value="ru">Русский</option>
            </select>
          </Field>
        </Card>

        <NotificationSettings />

        <Card id="s-pw" title={t('changePassword')}>
          <form class="form" onSubmit={changePw}>
            <input type="text" name="username" autocomplete="username" value={me.username} hidden readOnly />
            <PasswordField label={t('currentPassword')} name="currentPassword" value={cur} onValue={setCur} />
            <PasswordField isNew label={t('newPassword')} name="newPassword" value={next} onValue={setNext} />
            <FormError error={pwForm.error} />
            <div class="row-end">
              <button class="btn btn-tonal" type="submit" disabled={busy || !cur || !next}>
                {t('changePassword')}
              </button>
            </div>
          </form>
        </Card>

        {installable && (
          <ListAction card icon="down" onClick={() => void promptInstall()}>
            <span class="person-name">
              {t('install')}
              <small class="muted">{t('installHint')}</small>
            </span>
          </ListAction>
        )}
        {me.isAdmin && (
          <ListAction card icon="shield" onClick={() => navigate({ name: 'admin' })}>
            {t('admin')}
          </ListAction>
        )}
        <ListAction card danger icon="logout" onClick={() => void logout()}>
          {t('signOut')}
        </ListAction>
        <p class="muted small center">{t('about')}</p>
      </div>
    </div>
  );
}
