import { useState } from 'preact/hooks';
import { ApiError, lastSignOutReason, login, register } from '../api';
import { errorText, t } from '../i18n';
import { Icon } from '../ui';

function joinCodeFromPath(): string | null {
  const m = /^\/join\/([^/?#]+)/.exec(location.pathname);
  return m ? decodeURIComponent(m[1]) : null;
}

const USERNAME_RE = /^[A-Za-z0-9_.-]{3,32}$/;

export function Auth() {
  const linkCode = joinCodeFromPath();
  const [mode, setMode] = useState<'login' | 'join'>(linkCode ? 'join' : 'login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [code, setCode] = useState(linkCode || '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(lastSignOutReason ? errorText(lastSignOutReason) : null);

  const fail = (e: unknown) => {
    const err = e as ApiError;
    setError(errorText(err.code, err.message));
  };

  const onLogin = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password);
      if (location.pathname !== '/') history.replaceState(null, '', '/');
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  const onJoin = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!USERNAME_RE.test(username.trim())) return setError(t('usernameHint'));
    if (password.length < 6) return setError(t('passwordHint'));
    setBusy(true);
    try {
      await register(username.trim(), password, code.trim(), displayName.trim() || undefined);
      await login(username.trim(), password);
      history.replaceState(null, '', '/');
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth">
      <div class="auth-card">
        <div class="auth-brand">
          <span class="brand-mark" aria-hidden="true">
            <Icon name="chat" />
          </span>
          <h1>{t('appName')}</h1>
          <p class="muted">{mode === 'join' ? t('joinHint') : t('tagline')}</p>
        </div>
        {mode === 'login' ? (
          <form class="form" onSubmit={onLogin} aria-label={t('signIn')}>
            <label class="field">
              <span>{t('username')}</span>
              <input
                name="username"
                autocomplete="username"
                autocapitalize="none"
                spellcheck={false}
                required
                value={username}
                onInput={(e) => setUsername(e.currentTarget.value)}
              />
            </label>
            <label class="field">
              <span>{t('password')}</span>
              <input
                name="password"
                type="password"
                autocomplete="current-password"
                required
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </label>
            {error && (
              <p class="form-error" role="alert">
                {error}
              </p>
            )}
            <button class="btn btn-filled" type="submit" disabled={busy}>
              {busy ? t('signingIn') : t('signIn')}
            </button>
            <button
              type="button"
              class="btn btn-text"
              onClick={() => {
                setMode('join');
                setError(null);
              }}
            >
              {t('haveInvite')}
            </button>
          </form>
        ) : (
          <form class="form" onSubmit={onJoin} aria-label={t('join')}>
            {linkCode && <h2 class="auth-sub">{t('joinTitle')}</h2>}
            <label class="field">
              <span>{t('invitationCode')}</span>
              <input
                name="invitationCode"
                autocomplete="off"
                autocapitalize="none"
                spellcheck={false}
                required
                value={code}
                onInput={(e) => setCode(e.currentTarget.value)}
              />
            </label>
            <label class="field">
              <span>{t('username')}</span>
              <input
                name="username"
                autocomplete="username"
                autocapitalize="none"
                spellcheck={false}
                required
                minLength={3}
                maxLength={32}
                pattern="[A-Za-z0-9_.\-]+"
                aria-describedby="username-hint"
                value={username}
                onInput={(e) => setUsername(e.currentTarget.value)}
              />
              <small id="username-hint">{t('usernameHint')}</small>
            </label>
            <label class="field">
              <span>{t('password')}</span>
              <input
                name="password"
                type="password"
                autocomplete="new-password"
                required
                minLength={6}
                aria-describedby="password-hint"
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
              <small id="password-hint">{t('passwordHint')}</small>
            </label>
            <label class="field">
              <span>{t('displayNameOptional')}</span>
              <input
                name="displayName"
                autocomplete="name"
                maxLength={64}
                value={displayName}
                onInput={(e) => setDisplayName(e.currentTarget.value)}
              />
            </label>
            {error && (
              <p class="form-error" role="alert">
                {error}
              </p>
            )}
            <button class="btn btn-filled" type="submit" disabled={busy}>
              {busy ? t('joining') : t('join')}
            </button>
            <button
              type="button"
              class="btn btn-text"
              onClick={() => {
                setMode('login');
                setError(null);
              }}
            >
              {t('haveAccount')}
            </button>
          </form>
        )}
      </div>
    </main>
  );
}
