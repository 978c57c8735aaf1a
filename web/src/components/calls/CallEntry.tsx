/**
 * A call written into the chat (`kind: "call"`): a row with the direction, the outcome
 * from my side ("Outgoing video call, 3:12", "Missed call") and a call-back button.
 */
import { startCall } from '../../calls/controller';
import { t, type Key } from '../../i18n';
import type { CallSummary, MessageOut } from '../../types';
import { timeOf } from '../../ui';
import { CallIcon, type CallIconName } from './icons';

/** m:ss, or h:mm:ss from an hour on. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** The text and icon of a call entry as seen by `meId`. */
export function describeCall(call: CallSummary, meId: string, group = false): { text: string; icon: CallIconName; missed: boolean } {
  const outgoing = call.callerId === meId;
  const video = call.type === 'video';
  if (group) {
    if (call.status === 'ended' || call.status === 'accepted') {
      return { text: `${t(video ? 'callGroupVideo' : 'callGroupAudio')}, ${duration(call.durationMs)}`, icon: outgoing ? 'made' : 'received', missed: false };
    }
    return { text: t('callGroupMissed'), icon: 'missed', missed: !outgoing };
  }
  if (call.status === 'ended' || call.status === 'accepted') {
    const what: Key = outgoing ? (video ? 'callOutgoingVideo' : 'callOutgoingAudio') : video ? 'callIncomingVideo' : 'callIncomingAudio';
    return { text: `${t(what)}, ${duration(call.durationMs)}`, icon: outgoing ? 'made' : 'received', missed: false };
  }
  if (outgoing) {
    const why: Key =
      call.status === 'rejected'
        ? 'callDeclined'
        : call.status === 'busy'
          ? 'callBusy'
          : call.status === 'failed'
            ? 'callFailed'
            : call.endReason === 'cancelled'
              ? 'callCancelled'
              : 'callNoAnswer';
    return { text: t(why), icon: 'made', missed: false };
  }
  if (call.status === 'rejected') return { text: t('callDeclinedIncoming'), icon: 'missed', missed: false };
  if (call.status === 'failed') return { text: t('callFailed'), icon: 'received', missed: false };
  return { text: t('callMissed'), icon: 'missed', missed: true };
}

export function CallEntry({ msg, meId, peerId, peerName }: { msg: MessageOut; meId: string; peerId?: string; peerName: string }) {
  const call = msg.call!;
  // A group chat's entry is its group call's (there is no one to call back).
  const d = describeCall(call, meId, !peerId);
  const mine = call.callerId === meId;
  return (
    <div class={`msg-row call-row ${mine ? 'mine' : 'theirs'}`} data-seq={msg.seq} data-message-id={msg.id}>
      <div class={`call-entry ${d.missed ? 'missed' : ''}`} data-call-status={call.status}>
        <span class="call-entry-icon">
          <CallIcon name={d.icon} />
        </span>
        <span class="call-entry-text">
          <span class="call-entry-title">{d.text}</span>
          <time dateTime={msg.createdAt}>{timeOf(msg.createdAt)}</time>
        </span>
        {peerId && (
          <button
            type="button"
            class="icon-btn call-entry-back"
            aria-label={`${t('callBack')}: ${call.type === 'video' ? t('callVideo') : t('callAudio')}`}
            title={t('callBack')}
            onClick={() => void startCall(peerId, peerName, call.type, msg.chatId)}
          >
            <CallIcon name={call.type === 'video' ? 'video' : 'call'} />
          </button>
        )}
      </div>
    </div>
  );
}
