import { useState } from 'preact/hooks';
import { lastSignOutReason, login, register } from '../api';
import { errorText, t } from '../i18n';
import { Icon } from '../ui';
import { FormError, PasswordField, TextField, useAction } from './form';

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
  const { busy, error, setError, run } = useAction({
    initialError: lastSignOutReason ? errorText(lastSignOutReason) : null,
    serverMessage: true,
  });
  const switchTo = (m: 'login' | 'join') => {
    setMode(m);
    setError(null);
  };

  const onLogin = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await login(username.trim(), password);
      if (location.pathname !== '/') history.replaceState(null, '', '/');
    });
  };

  const onJoin = (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!USERNAME_RE.test(username.trim())) return setError(t('usernameHint'));
    if (password.length < 6) return setError(t('passwordHint'));
    void run(async () => {
      await register(username.trim(), password, code.trim(), displayName.trim() || undefined);
      await login(username.trim(), password);
      history.replaceState(null, '', '/');
    });
  };

  const usernameProps = {
    name: 'username',
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: false,
    required: true,
    value: username,
    onValue: setUsername,
  } as const;

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
        <form
          key={mode}
          class="form"
          onSubmit={mode === 'login' ? onLogin : onJoin}
          aria-label={mode === 'login' ? t('signIn') : t('join')}
        >
          {mode === 'login' ? (
            <>
              <TextField label={t('username')} {...usernameProps} />
              <PasswordField label={t('password')} name="password" value={password} onValue={setPassword} />
            </>
          ) : (
            <>
              {linkCode && <h2 class="auth-sub">{t('joinTitle')}</h2>}
              <TextField
                label={t('invitationCode')}
                name="invitationCode"
                autocomplete="off"
                autocapitalize="none"
                spellcheck={false}
                required
                value={code}
                onValue={setCode}
              />
              <TextField
                label={t('username')}
                hint={t('usernameHint')}
                {...usernameProps}
                minLength={3}
                maxLength={32}
                pattern="[A-Za-z0-9_.\-]+"
              />
              <PasswordField isNew label={t('password')} name="password" value={password} onValue={setPassword} />
              <TextField
                label={t('displayNameOptional')}
                name="displayName"
                autocomplete="name"
                maxLength={64}
                value={displayName}
                onValue={setDisplayName}
              />
            </>
          )}
          <FormError error={error} />
          <button class="btn btn-filled" type="submit" disabled={busy}>
            {mode === 'login' ? (busy ? t('signingIn') : t('signIn')) : busy ? t('joining') : t('join')}
          </button>
          <button type="button" class="btn btn-text" onClick={() => switchTo(mode === 'login' ? 'join' : 'login')}>
            {mode === 'login' ? t('haveInvite') : t('haveAccount')}
          </button>
        </form>
      </div>
    </main>
  );
}
