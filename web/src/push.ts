/** Push notifications (docs/push.md): subscribe this browser, report tab visibility, open
 * the chat a notification was tapped for. A push is only a wake-up; the app syncs on open. */
import { api } from './api';
import { ClientEvent } from './api/generated/events';
import { emitQuiet, onConnect } from './socket';
import { getState, navigate, subscribe } from './store';

export type PushState = 'unsupported' | 'ios-install' | 'denied' | 'off' | 'on';

const ASKED = 'ic.pushAsked';
const SENT = 'ic.sentOnce';

export function isIos(): boolean {
  return /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
}

export function isStandalone(): boolean {
  return matchMedia('(display-mode: standalone)').matches || (navigator as { standalone?: boolean }).standalone === true;
}

export function pushSupported(): boolean {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

async function registration(): Promise<ServiceWorkerRegistration | null> {
  if (!('serviceWorker' in navigator)) return null;
  return (await navigator.serviceWorker.getRegistration()) ?? null;
}

export async function currentSubscription(): Promise<PushSubscription | null> {
  const reg = await registration();
  return reg ? reg.pushManager.getSubscription() : null;
}

export async function pushState(): Promise<PushState> {
  // Safari on iOS only pushes to a web app installed on the home screen.
  if (isIos() && !isStandalone()) return 'ios-install';
  if (!pushSupported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'denied';
  const sub = await currentSubscription();
  return sub && Notification.permission === 'granted' ? 'on' : 'off';
}

function keyBytes(b64url: string): Uint8Array<ArrayBuffer> {
  const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (b64url.length % 4)) % 4);
  const raw = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** Ask for permission (only ever from a tap), subscribe, and tell the server. */
export async function enablePush(): Promise<PushState> {
  localStorage.setItem(ASKED, '1');
  if (!pushSupported()) return pushState();
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return pushState();
  const reg = (await registration()) ?? (await navigator.serviceWorker.ready);
  const config = await api<{ vapidPublicKey: string }>('GET', '/push/config');
  let sub = await reg.pushManager.getSubscription();
  if (!sub) {
    sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(config.vapidPublicKey) });
  }
  await api('POST', '/push/subscriptions', sub.toJSON());
  return 'on';
}

export async function disablePush(): Promise<PushState> {
  const sub = await currentSubscription();
  if (sub) {
    try {
      await api('DELETE', '/push/subscriptions', { endpoint: sub.endpoint });
    } finally {
      await sub.unsubscribe();
    }
  }
  return pushState();
}

/** The offer banner: after the member sent their first message, once, never on first paint. */
export function noteMessageSent(): void {
  localStorage.setItem(SENT, '1');
}

export function shouldOfferPush(): boolean {
  return (
    pushSupported() &&
    !(isIos() && !isStandalone()) &&
    Notification.permission === 'default' &&
    !localStorage.getItem(ASKED) &&
    !!localStorage.getItem(SENT)
  );
}

export function dismissOffer(): void {
  localStorage.setItem(ASKED, '1');
}

let started = false;

/** Report tab visibility to the server; open chats for tapped notifications. */
export function startPushClient(): void {
  if (started) return;
  started = true;
  const report = () => emitQuiet(ClientEvent.VISIBILITY, { hidden: document.hidden });
  document.addEventListener('visibilitychange', report);
  // A connection counts as on screen until told otherwise (push notifications skip it).
  onConnect(() => {
    if (document.hidden) report();
  });
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.addEventListener('message', (e: MessageEvent) => {
      const data = e.data as { type?: string; chatId?: string } | null;
      if (data?.type === 'openChat' && data.chatId) navigate({ name: 'chat', id: data.chatId });
    });
  }
  // Chats read here or on another device: their notifications go, and so does the badge.
  let last = '';
  subscribe(() => {
    const chats = getState().chats;
    const unread = Object.values(chats).filter((c) => c.unreadCount > 0);
    const key = unread.map((c) => `${c.id}:${c.unreadCount}`).join(',');
    if (key === last || document.hidden) return;
    last = key;
    // The badge counts unread messages, as the server's pushes do (unreadTotal).
    const total = unread.reduce((sum, c) => sum + c.unreadCount, 0);
    void clearReadNotifications(new Set(unread.map((c) => c.id)), total);
  });
  // A still-subscribed browser keeps the server's copy fresh (keys rotate, a new session).
  void currentSubscription()
    .then((sub) => (sub && Notification.permission === 'granted' ? api('POST', '/push/subscriptions', sub.toJSON()) : null))
    .catch(() => undefined);
}

/** Close notifications of chats that have nothing unread any more; set the app badge. */
async function clearReadNotifications(unread: Set<string>, count: number): Promise<void> {
  const reg = await registration();
  if (!reg) return;
  for (const n of await reg.getNotifications()) {
    const data = n.data as { chatId?: string; kind?: string } | null;
    // Call notifications ring on until the call ends, read or not.
    if (data?.chatId && data.kind !== 'call' && !unread.has(data.chatId)) n.close();
  }
  const nav = navigator as Navigator & { setAppBadge?: (n: number) => Promise<void>; clearAppBadge?: () => Promise<void> };
  if (count > 0) await nav.setAppBadge?.(count).catch(() => undefined);
  else await nav.clearAppBadge?.().catch(() => undefined);
}
