/** The phone and camera buttons of a private chat's top bar. */
import { startCall } from '../../calls/controller';
import { useCall } from '../../calls/state';
import { t } from '../../i18n';
import { CallIcon } from './icons';

export function CallButtons({ peerId, peerName, chatId }: { peerId: string | undefined; peerName: string; chatId: string }) {
  const call = useCall();
  if (!peerId) return null;
  const busy = !!call && call.phase !== 'ended';
  return (
    <>
      {(['audio', 'video'] as const).map((type) => (
        <button
          key={type}
          type="button"
          class="icon-btn"
          aria-label={type === 'video' ? t('callVideo') : t('callAudio')}
          title={type === 'video' ? t('callVideo') : t('callAudio')}
          disabled={busy}
          onClick={() => void startCall(peerId, peerName, type, chatId)}
        >
          <CallIcon name={type === 'video' ? 'video' : 'call'} />
        </button>
      ))}
    </>
  );
}
