/**
 * The phone and camera buttons of a chat's top bar: a call to the other member of a
 * private chat, a group call in a group or the family chat (Join while one goes on).
 */
import { useEffect, useState } from 'preact/hooks';
import { startCall } from '../../calls/controller';
import { groupCallIn, joinGroupCall, onGroupCalls, startGroupCall } from '../../calls/group';
import { useCall, type CallType } from '../../calls/state';
import { t } from '../../i18n';
import { CallIcon } from './icons';

export function CallButtons({ peerId, title, chatId = null, group = false }: { peerId: string | undefined; title: string; chatId?: string | null; group?: boolean }) {
  const call = useCall();
  const [, rerender] = useState(0);
  useEffect(() => onGroupCalls(() => rerender((n) => n + 1)), []);
  if (!group && !peerId) return null;
  const busy = !!call && call.phase !== 'ended';
  const going = group && chatId ? groupCallIn(chatId) : undefined;
  if (going && !(busy && call?.id === going)) {
    return (
      <button type="button" class="btn btn-tonal btn-small call-join" disabled={busy} onClick={() => void joinGroupCall(going, chatId, title, 'audio')}>
        <CallIcon name="call" /> {t('callJoin')}
      </button>
    );
  }
  const start = (type: CallType) => (group && chatId ? startGroupCall(chatId, title, type) : startCall(peerId!, title, type, chatId));
  return (
    <>
      {(['audio', 'video'] as const).map((type) => {
        const label = group ? (type === 'video' ? t('callGroupVideo') : t('callGroupAudio')) : type === 'video' ? t('callVideo') : t('callAudio');
        return (
          <button key={type} type="button" class="icon-btn" aria-label={label} title={label} disabled={busy} onClick={() => void start(type)}>
            <CallIcon name={type === 'video' ? 'video' : 'call'} />
          </button>
        );
      })}
    </>
  );
}
