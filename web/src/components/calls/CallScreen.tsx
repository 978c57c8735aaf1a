/**
 * A call being made, in progress or just ended: the remote video (or the avatar in an
 * audio call), my own preview, the timer, the connection quality and the controls.
 * `data-connection-state` mirrors RTCPeerConnection.connectionState (tests wait on it).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { dismissCall, hangUp, nextOutput, switchCamera, toggleCamera, toggleMute } from '../../calls/controller';
import type { CallView, EndReason, Member } from '../../calls/state';
import { t, type Key } from '../../i18n';
import { Avatar } from '../../ui';
import { RoundButton } from './icons';
import { duration } from './CallEntry';

const END_TEXT: Record<EndReason, Key> = {
  ended: 'callEnded',
  declined: 'callDeclined',
  busy: 'callBusy',
  noAnswer: 'callNoAnswer',
  cancelled: 'callCancelled',
  missed: 'callMissed',
  failed: 'callFailed',
  selfBusy: 'callSelfBusy',
  noMedia: 'callNoMedia',
  error: 'callError',
};

function statusText(call: CallView, now: number): string {
  if (call.phase === 'ended') return t(END_TEXT[call.endReason || 'ended']);
  if (call.group && !call.members.length) return t('callWaiting');
  if (call.phase === 'outgoing') return call.id ? t('callRinging') : t('callCalling');
  if (call.connectedAt === null) return t('callConnecting');
  if (call.connection === 'disconnected' || call.connection === 'failed') return t('callReconnecting');
  return duration(now - call.connectedAt);
}

/** A media element showing a stream, on the chosen audio output when it can be chosen. */
function StreamVideo(props: { stream: MediaStream | null; muted?: boolean; sinkId?: string; class: string; label?: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (el && el.srcObject !== props.stream) el.srcObject = props.stream;
  }, [props.stream]);
  useEffect(() => {
    const el = ref.current as (HTMLVideoElement & { setSinkId?: (id: string) => Promise<void> }) | null;
    if (el?.setSinkId && props.sinkId !== undefined) void el.setSinkId(props.sinkId).catch(() => undefined);
  }, [props.sinkId]);
  return <video ref={ref} class={props.class} autoplay playsInline muted={props.muted} aria-label={props.label} />;
}

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [active]);
  return now;
}

/** One other member of a group call: their video or initials, lit while they talk. */
function Tile({ m, sinkId }: { m: Member; sinkId: string }) {
  const video = !!m.stream?.getVideoTracks().length;
  return (
    <div class={`call-tile ${m.talking ? 'talking' : ''}`} data-member-id={m.id} data-connection-state={m.connection}>
      <StreamVideo stream={m.stream} sinkId={sinkId} class={`call-tile-video ${video ? '' : 'audio-only'}`} label={m.name} />
      {!video && <Avatar id={m.id} name={m.name} size="lg" />}
      <span class="call-tile-name">{m.name}</span>
    </div>
  );
}

export function CallScreen({ call }: { call: CallView }) {
  const now = useNow(call.connectedAt !== null && call.phase !== 'ended');
  const video = call.type === 'video';
  const remoteVideo = video && !call.group && !!call.remote?.getVideoTracks().length;
  const live = call.phase !== 'ended';
  const kind = video ? t('callVideo') : t('callAudio');
  return (
    <div
      class={`call-layer call-screen ${remoteVideo ? 'has-video' : ''}`}
      data-call-phase={call.phase}
      data-connection-state={call.connection}
      data-end-reason={call.endReason || undefined}
    >
      {/* The remote side: its video, and its sound in an audio call too. */}
      {!call.group && (
        <StreamVideo stream={call.remote} sinkId={call.sinkId} class={`call-remote ${remoteVideo ? '' : 'audio-only'}`} label={call.peerName} />
      )}
      <div class="call-top">
        {!remoteVideo && !call.group && (
          <span class={`call-avatar ${call.remoteTalking ? 'talking' : ''}`}>
            <Avatar id={call.peerId} name={call.peerName} size="lg" />
          </span>
        )}
        <h2 class="call-name">{call.peerName}</h2>
        <p class="call-status" aria-live="polite">
          <span class="call-kind">{call.group ? t('callInCall', { n: call.members.length + 1 }) : kind}</span> ·{' '}
          <span class="call-timer">{statusText(call, now)}</span>
        </p>
        {call.quality && call.phase === 'active' && (
          <p class={`call-quality q-${call.quality}`} data-quality={call.quality}>
            <span class="q-bars" aria-hidden="true">
              <i />
              <i />
              <i />
            </span>
            {t('callQuality', { q: t(`quality_${call.quality}` as Key) })}
          </p>
        )}
      </div>
      {call.group && (
        <div class={`call-grid n${call.members.length}`}>
          {call.members.map((m) => (
            <Tile key={m.id} m={m} sinkId={call.sinkId} />
          ))}
        </div>
      )}
      {video && live && call.local && (
        <StreamVideo stream={call.local} muted class={`call-self ${call.cameraOff ? 'off' : ''} ${call.facing === 'user' ? 'mirror' : ''}`} label={t('you')} />
      )}
      <div class="call-actions">
        {live ? (
          <>
            <RoundButton icon={call.muted ? 'micOff' : 'mic'} label={call.muted ? t('callUnmute') : t('callMute')} pressed={call.muted} kind={call.muted ? 'on' : undefined} onClick={toggleMute} />
            {video && (
              <RoundButton
                icon={call.cameraOff ? 'videoOff' : 'video'}
                label={call.cameraOff ? t('callCameraOn') : t('callCameraOff')}
                pressed={call.cameraOff}
                kind={call.cameraOff ? 'on' : undefined}
                onClick={toggleCamera}
              />
            )}
            {video && call.canSwitchCamera && <RoundButton icon="switchCamera" label={t('callSwitchCamera')} onClick={() => void switchCamera()} />}
            {call.canChooseOutput && <RoundButton icon="speaker" label={t('callOutput')} kind={call.sinkId ? 'on' : undefined} onClick={() => void nextOutput()} />}
            <RoundButton icon="callEnd" kind="danger" label={t('callHangUp')} onClick={() => hangUp()} />
          </>
        ) : (
          <button type="button" class="btn btn-tonal" onClick={dismissCall}>
            {t('close')}
          </button>
        )}
      </div>
    </div>
  );
}
