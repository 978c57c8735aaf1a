/** Ringing: who calls (name and initials), audio or video, accept and decline. */
import { acceptCall, declineCall } from '../../calls/controller';
import type { CallView } from '../../calls/state';
import { t } from '../../i18n';
import { Avatar } from '../../ui';
import { RoundButton } from './icons';

function what(call: CallView): string {
  return call.group ? t('callIncomingGroup') : call.type === 'video' ? t('callIncomingVideo') : t('callIncomingAudio');
}

export function incomingLabel(call: CallView): string {
  return `${what(call)}: ${call.peerName}`;
}

export function IncomingCall({ call }: { call: CallView }) {
  return (
    <div class="call-layer call-incoming" data-call-phase="incoming">
      <div class="call-who">
        <span class="call-ring-pulse">
          <Avatar id={call.peerId} name={call.peerName} size="lg" group={call.group} />
        </span>
        <h2 class="call-name">{call.peerName}</h2>
        <p class="call-status">{what(call)}</p>
      </div>
      <div class="call-actions call-actions-answer">
        <span class="call-action">
          <RoundButton icon="callEnd" kind="danger" label={t('callDecline')} onClick={declineCall} />
          <span aria-hidden="true">{t('callDecline')}</span>
        </span>
        <span class="call-action">
          <RoundButton icon={call.type === 'video' ? 'video' : 'call'} kind="accept" label={t('callAccept')} onClick={() => void acceptCall()} />
          <span aria-hidden="true">{t('callAccept')}</span>
        </span>
      </div>
    </div>
  );
}
