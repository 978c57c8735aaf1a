import { useEffect, useState } from 'preact/hooks';
import { canInstall, onInstallChange, promptInstall } from '../install';
import { api, logout, updateSessionUser, type ApiError } from '../api';
import { errorText, langPref, setLangPref, t, type LangPref } from '../i18n';
import { goBack, navigate, setState, toast, useStore } from '../store';
import { setThemePref, themePref, type ThemePref } from '../theme';
import type { UserOut } from '../types';
import { Avatar, Icon, IconButton } from '../ui';
import { NotificationSettings } from './Push';

export function Settings() {
  const me = useStore((s) => s.me)!;
  const [name, setName] = useState(me.displayName);
  const [cur, setCur] = useState('');
  const [next, setNext] = useState('');
  const [theme, setTheme] = useState<ThemePref>(themePref());
  const [lng, setLng] = useState<LangPref>(langPref());
  const [nameErr, setNameErr] = useState<string | null>(null);
  const [pwErr, setPwErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [installable, setInstallable] = useState(canInstall());
  useEffect(() => onInstallChange(() => setInstallable(canInstall())), []);

  const saveName = async (e: Event) => {
    e.preventDefault();
    setNameErr(null);
    setBusy(true);
    try {
      const u = await api<UserOut>('PATCH', '/users/profile', { displayName: name.trim() });
      setState({ me: u });
      updateSessionUser(u);
      toast(t('saved'));
    } catch (err) {
      setNameErr(errorText((err as ApiError).code));
    } finally {
      setBusy(false);
    }
  };

  const changePw = async (e: Event) => {
    e.preventDefault();
    setPwErr(null);
    if (next.length < 6) return setPwErr(t('passwordHint'));
    setBusy(true);
    try {
      await api('POST', '/users/profile/password', { currentPassword: cur, newPassword: next });
      setCur('');
      setNext('');
      toast(t('passwordChanged'));
    } catch (err) {
      setPwErr(errorText((err as ApiError).code));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page">
      <header class="topbar">
        <IconButton icon="back" label={t('back')} onClick={goBack} class="back-btn" />
        <h1 class="topbar-title">{t('settings')}</h1>
      </header>
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

        <section class="card" aria-labelledby="s-profile">
          <h2 id="s-profile" class="card-title">
            {t('profile')}
          </h2>
          <form class="inline-form" onSubmit={saveName}>
            <label class="field grow">
              <span>{t('displayName')}</span>
              <input
                name="displayName"
                value={name}
                maxLength={64}
                required
                onInput={(e) => setName(e.currentTarget.value)}
              />
            </label>
            <button class="btn btn-tonal" type="submit" disabled={busy || !name.trim() || name.trim() === me.displayName}>
              {t('save')}
            </button>
          </form>
          {nameErr && (
            <p class="form-error" role="alert">
              {nameErr}
            </p>
          )}
        </section>

        <section class="card" aria-labelledby="s-look">
          <h2 id="s-look" class="card-title">
            {t('appearance')}
          </h2>
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
          <label class="field">
            <span>{t('language')}</span>
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
          </label>
        </section>

        <NotificationSettings />

        <section class="card" aria-labelledby="s-pw">
          <h2 id="s-pw" class="card-title">
            {t('changePassword')}
          </h2>
          <form class="form" onSubmit={changePw}>
            <input type="text" name="username" autocomplete="username" value={me.username} hidden readOnly />
            <label class="field">
              <span>{t('currentPassword')}</span>
              <input
                type="password"
                name="currentPassword"
                autocomplete="current-password"
                required
                value={cur}
                onInput={(e) => setCur(e.currentTarget.value)}
              />
            </label>
            <label class="field">
              <span>{t('newPassword')}</span>
              <input
                type="password"
                name="newPassword"
                autocomplete="new-password"
                minLength={6}
                required
                value={next}
                onInput={(e) => setNext(e.currentTarget.value)}
              />
              <small>{t('passwordHint')}</small>
            </label>
            {pwErr && (
              <p class="form-error" role="alert">
                {pwErr}
              </p>
            )}
            <div class="row-end">
              <button class="btn btn-tonal" type="submit" disabled={busy || !cur || !next}>
                {t('changePassword')}
              </button>
            </div>
          </form>
        </section>

        {installable && (
          <button class="list-action card-like" type="button" onClick={() => void promptInstall()}>
            <span class="list-action-icon" aria-hidden="true">
              <Icon name="down" />
            </span>
            <span class="person-name">
              {t('install')}
              <small class="muted">{t('installHint')}</small>
            </span>
          </button>
        )}
        {me.isAdmin && (
          <button class="list-action card-like" type="button" onClick={() => navigate({ name: 'admin' })}>
            <span class="list-action-icon" aria-hidden="true">
              <Icon name="shield" />
            </span>
            {t('admin')}
          </button>
        )}
        <button class="list-action card-like danger" type="button" onClick={() => void logout()}>
          <span class="list-action-icon" aria-hidden="true">
            <Icon name="logout" />
          </span>
          {t('signOut')}
        </button>
        <p class="muted small center">{t('about')}</p>
      </div>
    </div>
  );
}
