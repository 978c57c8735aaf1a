import { useEffect, useState } from 'preact/hooks';
import { api, getSession, onSession, updateSessionUser, type Session } from '../api';
import { clearUserCache, flushCache, restore, startPersisting } from '../cache';
import { startPushClient } from '../push';
import { startCalls, stopCalls } from '../calls/controller';
import { startRealtime, stopRealtime } from '../realtime';
import { getState, navigate, parseRoute, setState, signedOut, useStore } from '../store';
import { t } from '../i18n';
import type { UserOut } from '../types';
import { Icon } from '../ui';
import { Auth } from './Auth';
import { ChatList } from './ChatList';
import { ChatView } from './chat/ChatView';
import { Settings } from './Settings';
import { Admin } from './Admin';
import { PushOffer } from './Push';
import { CallLayer } from './calls/CallLayer';

let stopPersisting: (() => void) | null = null;
let activeUser: string | null = null;

function startUser(s: Session): void {
  if (activeUser === s.user.id) return;
  activeUser = s.user.id;
  setState({ me: s.user, route: parseRoute() });
  restore(s.user.id);
  stopPersisting = startPersisting();
  startRealtime();
  startCalls();
  startPushClient();
  void api<UserOut>('GET', '/users/profile')
    .then((u) => {
      setState({ me: u });
      updateSessionUser(u);
    })
    .catch(() => undefined);
}

function stopUser(): void {
  if (!activeUser) return;
  const uid = activeUser;
  activeUser = null;
  flushCache();
  stopPersisting?.();
  stopPersisting = null;
  stopCalls();
  stopRealtime();
  clearUserCache(uid);
  setState(signedOut());
  if (location.hash) history.replaceState(null, '', '/');
}

export function App() {
  const [session, setSess] = useState<Session | null>(getSession());
  useEffect(
    () =>
      onSession((s) => {
        if (s && activeUser && s.user.id !== activeUser) stopUser();
        setSess(s);
      }),
    [],
  );
  if (session) startUser(session);
  else stopUser();
  if (!session) return <Auth />;
  return <Shell />;
}

function Banner() {
  const conn = useStore((s) => s.conn);
  if (conn === 'online') return null;
  return (
    <div class={`banner ${conn}`} role="status" aria-live="polite">
      {conn === 'offline' ? <Icon name="cloudOff" /> : <span class="spinner" aria-hidden="true" />}
      <span>{conn === 'offline' ? t('noConnection') : t('connecting')}</span>
    </div>
  );
}

function Toast() {
  const toast = useStore((s) => s.toast);
  return (
    <div class="toast-region" role="status" aria-live="polite">
      {toast && <div class="toast">{toast.text}</div>}
    </div>
  );
}

function Shell() {
  const route = useStore((s) => s.route);
  const chats = useStore((s) => s.chats);
  const unread = Object.values(chats).reduce((n, c) => n + (c.unreadCount > 0 ? 1 : 0), 0);
  useEffect(() => {
    document.title = unread ? `(${unread}) ${t('appName')}` : t('appName');
  }, [unread]);
  // A join link opened while signed in: nothing to join, go to the app.
  useEffect(() => {
    if (location.pathname !== '/') history.replaceState(null, '', '/' + location.hash);
  }, []);
  const detail = route.name !== 'list';
  return (
    <div class={`shell ${detail ? 'show-detail' : 'show-list'}`}>
      <Banner />
      <PushOffer />
      <div class="panes">
        <aside class="pane pane-list" aria-label={t('chats')}>
          <ChatList />
        </aside>
        <main class="pane pane-detail">
          {route.name === 'chat' ? (
            <ChatView key={route.id} chatId={route.id} />
          ) : route.name === 'settings' ? (
            <Settings />
          ) : route.name === 'admin' && getState().me?.isAdmin ? (
            <Admin />
          ) : (
            <EmptyDetail />
          )}
        </main>
      </div>
      <Toast />
      <CallLayer />
    </div>
  );
}

function EmptyDetail() {
  const me = useStore((s) => s.me);
  if (getState().route.name === 'admin' && me && !me.isAdmin) navigate({ name: 'list' }, true);
  return (
    <div class="empty-detail">
      <span class="brand-mark big" aria-hidden="true">
        <Icon name="chat" />
      </span>
      <p>{t('about')}</p>
    </div>
  );
}
