import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { errorText, t } from '../i18n';
import {
  disablePush,
  dismissOffer,
  enablePush,
  noteMessageSent,
  pushState,
  shouldOfferPush,
  type PushState,
} from '../push';
import { toast, useStore } from '../store';
import type { Id } from '../types';
import { FormError, useAction } from './form';

interface Device {
  id: Id;
  kind: 'webpush' | 'fcm';
  service: string;
  thisDevice: boolean;
  createdAt: string;
}
interface Mute {
  chatId: Id;
  muted: boolean;
  until: string | null;
}
interface Prefs {
  showText: boolean;
  mutes: Mute[];
}

/** Offered once, after the member sent a message (never on first paint). */
export function PushOffer() {
  const sending = useStore((s) => s.outbox.length);
  const [show, setShow] = useState(false);
  useEffect(() => {
    if (sending > 0) noteMessageSent();
    setShow(shouldOfferPush());
  }, [sending]);
  if (!show) return null;
  const close = () => {
    dismissOffer();
    setShow(false);
  };
  return (
    <div class="push-offer" role="region" aria-label={t('notifications')}>
      <span>{t('pushOffer')}</span>
      <button class="btn btn-text" type="button" onClick={close}>
        {t('notNow')}
      </button>
      <button
        class="btn btn-filled"
        type="button"
        onClick={() => {
          close();
          void enablePush()
            .then((st) => toast(st === 'on' ? t('pushOn') : t('pushBlocked')))
            .catch(() => toast(t('pushFailed')));
        }}
      >
        {t('turnOn')}
      </button>
    </div>
  );
}

/** Settings → Notifications: this device's state and switch, message text, devices. */
export function NotificationSettings() {
  const [state, setPushState] = useState<PushState | null>(null);
  const [prefs, setPrefs] = useState<Prefs | null>(null);
  const [devices, setDevices] = useState<Device[]>([]);
  const action = useAction({ fallback: t('pushFailed') });
  const { busy, error } = action;

  const load = () => {
    void pushState().then(setPushState);
    void api<Prefs>('GET', '/push/preferences').then(setPrefs).catch(() => undefined);
    void api<Device[]>('GET', '/push/subscriptions').then(setDevices).catch(() => undefined);
  };
  useEffect(load, []);

  const run = (fn: () => Promise<unknown>) => action.run(fn).finally(load);

  const stateText: Record<PushState, string> = {
    unsupported: t('pushUnsupported'),
    'ios-install': t('pushIosHint'),
    denied: t('pushBlocked'),
    off: t('pushOffHere'),
    on: t('pushOnHere'),
  };

  return (
    <section class="card" aria-labelledby="s-push">
      <h2 id="s-push" class="card-title">
        {t('notifications')}
      </h2>
      {state && (
        <div class="push-row">
          <p class={`push-state ${state}`} data-state={state}>
            {stateText[state]}
          </p>
          {state === 'off' && (
            <button class="btn btn-tonal" type="button" disabled={busy} onClick={() => void run(enablePush)}>
              {t('turnOn')}
            </button>
          )}
          {state === 'on' && (
            <button class="btn btn-text" type="button" disabled={busy} onClick={() => void run(disablePush)}>
              {t('turnOff')}
            </button>
          )}
        </div>
      )}
      {prefs && (
        <label class="check-row">
          <input
            type="checkbox"
            name="showText"
            checked={prefs.showText}
            onChange={(e) => {
              const showText = e.currentTarget.checked;
              setPrefs({ ...prefs, showText });
              void run(async () => setPrefs(await api<Prefs>('PUT', '/push/preferences', { showText })));
            }}
          />
          <span>
            {t('pushShowText')}
            <small class="muted">{t('pushShowTextHint')}</small>
          </span>
        </label>
      )}
      {devices.length > 0 && (
        <>
          <h3 class="section-label">{t('pushDevices')}</h3>
          <ul class="people" role="list">
            {devices.map((d) => (
              <li key={d.id} class="person-row">
                <span class="person-name">
                  {d.kind === 'fcm' ? t('pushAppDevice') : t('pushBrowserDevice', { service: d.service })}
                  <small class="muted">{d.thisDevice ? t('thisDevice') : new Date(d.createdAt).toLocaleDateString()}</small>
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
      <FormError error={error} />
    </section>
  );
}

/** Mute a chat's notifications (1 hour, 8 hours, for good) or turn them back on. */
export function ChatMuteControl({ chatId }: { chatId: Id }) {
  const [mute, setMute] = useState<Mute | null>(null);
  useEffect(() => {
    void api<Prefs>('GET', '/push/preferences')
      .then((p) => setMute(p.mutes.find((m) => m.chatId === chatId) ?? { chatId, muted: false, until: null }))
      .catch(() => undefined);
  }, [chatId]);
  if (!mute) return null;
  const value = !mute.muted ? 'off' : mute.until ? 'until' : 'forever';
  return (
    <label class="field">
      <span>{t('notifications')}</span>
      <select
        name="mute"
        value={value}
        onChange={(e) => {
          const duration = e.currentTarget.value;
          void api<Mute>('PUT', `/chats/${chatId}/mute`, { duration })
            .then((m) => {
              setMute(m);
              toast(m.muted ? t('chatMuted') : t('chatUnmuted'));
            })
            .catch((err) => toast(errorText((err as ApiError).code)));
        }}
      >
        <option value="off">{t('muteOff')}</option>
        {value === 'until' && (
          <option value="until" disabled>
            {t('mutedUntil', { time: new Date(mute.until!).toLocaleString() })}
          </option>
        )}
        <option value="1h">{t('mute1h')}</option>
        <option value="8h">{t('mute8h')}</option>
        <option value="forever">{t('muteForever')}</option>
      </select>
    </label>
  );
}
