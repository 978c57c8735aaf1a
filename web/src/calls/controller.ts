/**
 * The call use cases of this tab: start, ring, accept, decline, hang up, the in-call
 * controls, and what the `/calls` events do to the call (docs/calls.md). One call at a
 * time; a second incoming call while on one is the server's "busy", never shown here.
 */
import { api, type ApiError } from '../api';
import { getState } from '../store';
import {
  CallClientEvent,
  CallServerEvent,
  type CallAccepted,
  type CallAnsweredElsewhere,
  type CallEnded,
  type CallRejected,
  type IceRelayed,
  type IncomingCall,
  type SdpRelayed,
} from '../api/generated/events';
import { CallPeer } from './peer';
import { CallError, emitCall, onCallConnect, onCallEvent, startCallSocket, stopCallSocket } from './signaling';
import { getCall, patchCall, setCall, type CallType, type CallView, type EndReason } from './state';
import { startTone, stopTone } from './tone';
import { holdScreen, releaseScreen } from './wakelock';

interface CallOut {
  id: string;
  callerId: string;
  receiverId: string | null;
  status: string;
  type: CallType;
  chatId: string | null;
  sdpOffer: RTCSessionDescriptionInit | null;
  callerIceCandidates: RTCIceCandidateInit[];
  caller?: { displayName?: string | null; username: string };
}
/** How long the end screen stays (the outcome is worth reading, a plain hang-up is not). */
const END_SCREEN_MS = { quiet: 1500, outcome: 4000 };
/** The callee cannot restart ICE (only the caller offers): give the caller this long. */
const LOST_AFTER_MS = 30_000;

let peer: CallPeer | null = null;
let offer: RTCSessionDescriptionInit | null = null;
let candidates: RTCIceCandidateInit[] = [];
let cancelled = false;
let closeTimer: ReturnType<typeof setTimeout> | undefined;
let lostTimer: ReturnType<typeof setTimeout> | undefined;
let unsubscribe: (() => void)[] = [];

function fresh(p: Pick<CallView, 'id' | 'outgoing' | 'type' | 'peerId' | 'peerName' | 'chatId' | 'phase'>): CallView {
  return {
    ...p,
    connection: 'new',
    connectedAt: null,
    endReason: null,
    muted: false,
    cameraOff: false,
    canSwitchCamera: false,
    facing: 'user',
    sinkId: '',
    quality: null,
    remoteTalking: false,
    local: null,
    remote: null,
  };
}

function mine(callId: string): CallView | null {
  const c = getCall();
  return c && c.id === callId && c.phase !== 'ended' ? c : null;
}

async function media(type: CallType, facing: 'user' | 'environment' = 'user'): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    video: type === 'video' ? { facingMode: facing, width: { ideal: 1280 }, height: { ideal: 720 } } : false,
  });
}

async function iceServers(): Promise<RTCIceServer[]> {
  try {
    return (await api<{ iceServers: RTCIceServer[] }>('GET', '/calls/webrtc-config')).iceServers;
  } catch {
    return [];
  }
}

async function countCameras(): Promise<number> {
  try {
    return (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput').length;
  } catch {
    return 0;
  }
}

function makePeer(callId: string, ice: RTCIceServer[], local: MediaStream, offerer: boolean): CallPeer {
  const quiet = (event: typeof CallClientEvent.SDP_OFFER | typeof CallClientEvent.SDP_ANSWER | typeof CallClientEvent.ICE_CANDIDATE, payload: object) =>
    void emitCall(event, { callId, ...payload }).catch(() => undefined);
  const peerId = getCall()?.peerId;
  return new CallPeer(
    ice,
    local,
    offerer,
    {
      offer: (sdp) => quiet(CallClientEvent.SDP_OFFER, { sdp, receiverId: peerId }),
      answer: (sdp) => quiet(CallClientEvent.SDP_ANSWER, { sdp, callerId: peerId }),
      candidate: (candidate) => quiet(CallClientEvent.ICE_CANDIDATE, { candidate, targetId: peerId }),
    },
    {
      state: (connection) => onConnection(callId, connection),
      remote: (remote) => mine(callId) && patchCall({ remote }),
      quality: (quality) => mine(callId)?.quality !== quality && patchCall({ quality }),
      level: (level) => {
        const talking = level > 0.02;
        if (mine(callId) && getCall()?.remoteTalking !== talking) patchCall({ remoteTalking: talking });
      },
    },
  );
}

function onConnection(callId: string, connection: RTCPeerConnectionState): void {
  const c = mine(callId);
  if (!c) return;
  clearTimeout(lostTimer);
  if (connection === 'connected') {
    stopTone();
    holdScreen();
    patchCall({ connection, phase: 'active', connectedAt: c.connectedAt ?? Date.now() });
    return;
  }
  patchCall({ connection });
  if (connection === 'failed' || connection === 'disconnected')
    lostTimer = setTimeout(() => mine(callId) && hangUp('failed'), LOST_AFTER_MS);
}

/** Tears the call down locally and shows why; the end screen closes by itself. */
function finish(reason: EndReason, quiet = false): void {
  const c = getCall();
  peer?.close();
  peer = null;
  offer = null;
  candidates = [];
  clearTimeout(lostTimer);
  stopTone();
  releaseScreen();
  for (const t of c?.local?.getTracks() || []) t.stop();
  if (!c) return;
  if (quiet) {
    setCall(null);
    return;
  }
  setCall({ ...c, phase: 'ended', endReason: reason, local: null, remote: null, remoteTalking: false });
  clearTimeout(closeTimer);
  const stay = reason === 'ended' ? END_SCREEN_MS.quiet : END_SCREEN_MS.outcome;
  closeTimer = setTimeout(() => {
    if (getCall()?.phase === 'ended') setCall(null);
  }, stay);
}

export function dismissCall(): void {
  if (getCall()?.phase === 'ended') setCall(null);
}

/** Calls a member from a private chat or their profile. */
export async function startCall(peerId: string, peerName: string, type: CallType, chatId: string | null = null): Promise<void> {
  const now = getCall();
  if (now && now.phase !== 'ended') return;
  clearTimeout(closeTimer);
  cancelled = false;
  setCall(fresh({ id: null, outgoing: true, type, peerId, peerName, chatId, phase: 'outgoing' }));
  let local: MediaStream;
  try {
    local = await media(type);
  } catch {
    return finish('noMedia');
  }
  if (cancelled) return void local.getTracks().forEach((t) => t.stop());
  patchCall({ local, canSwitchCamera: type === 'video' && (await countCameras()) > 1 });
  let call: CallOut;
  let ice: RTCIceServer[];
  try {
    [call, ice] = await Promise.all([api<CallOut>('POST', '/calls/initiate', { targetUserId: peerId, type }), iceServers()]);
  } catch (e) {
    return finish((e as ApiError).code === 'CALL_BUSY' ? 'selfBusy' : 'error');
  }
  if (cancelled) {
    void emitCall(CallClientEvent.END_CALL, { callId: call.id, remoteUserId: peerId }).catch(() => undefined);
    return;
  }
  patchCall({ id: call.id });
  if (call.status === 'busy') return finish('busy');
  startTone('ringback');
  peer = makePeer(call.id, ice, local, true);
}

export async function acceptCall(): Promise<void> {
  const c = getCall();
  if (!c || c.phase !== 'incoming' || !c.id) return;
  const callId = c.id;
  stopTone();
  patchCall({ phase: 'connecting' });
  let local: MediaStream;
  try {
    local = await media(c.type);
  } catch {
    void emitCall(CallClientEvent.REJECT_CALL, { callId, remoteUserId: c.peerId }).catch(() => undefined);
    return finish('noMedia');
  }
  if (!mine(callId)) return void local.getTracks().forEach((t) => t.stop());
  patchCall({ local, canSwitchCamera: c.type === 'video' && (await countCameras()) > 1 });
  try {
    await emitCall(CallClientEvent.ACCEPT_CALL, { callId, callerId: c.peerId });
  } catch (e) {
    // Taken on another device, cancelled or timed out meanwhile.
    return finish((e as CallError).code === 'CALL_NOT_RINGING' ? 'missed' : 'error');
  }
  const [ice, stored] = await Promise.all([
    iceServers(),
    offer ? Promise.resolve(null) : api<CallOut>('GET', `/calls/${callId}`).catch(() => null),
  ]);
  if (!mine(callId)) return;
  peer = makePeer(callId, ice, local, false);
  const first = offer ?? stored?.sdpOffer ?? null;
  const early = [...(stored?.callerIceCandidates || []), ...candidates];
  offer = null;
  candidates = [];
  for (const cand of early) void peer.onCandidate(cand);
  if (first) await peer.onOffer(first).catch(() => hangUp('failed'));
}

export function declineCall(): void {
  const c = getCall();
  if (!c?.id || c.phase !== 'incoming') return;
  void emitCall(CallClientEvent.REJECT_CALL, { callId: c.id, remoteUserId: c.peerId }).catch(() => undefined);
  finish('declined', true);
}

/** Hang up (or cancel while it rings). */
export function hangUp(reason: EndReason = 'ended'): void {
  const c = getCall();
  if (!c || c.phase === 'ended') return;
  if (!c.id) {
    cancelled = true;
    return finish('cancelled');
  }
  void emitCall(CallClientEvent.END_CALL, { callId: c.id, remoteUserId: c.peerId }).catch(() => undefined);
  finish(c.phase === 'outgoing' ? 'cancelled' : reason);
}

// --- in-call controls ------------------------------------------------------------------

export function toggleMute(): void {
  const c = getCall();
  if (!c?.local) return;
  const muted = !c.muted;
  for (const t of c.local.getAudioTracks()) t.enabled = !muted;
  patchCall({ muted });
}

export function toggleCamera(): void {
  const c = getCall();
  if (!c?.local) return;
  const cameraOff = !c.cameraOff;
  for (const t of c.local.getVideoTracks()) t.enabled = !cameraOff;
  patchCall({ cameraOff });
}

/** Front/back camera on phones: a new track with the other facingMode, no renegotiation. */
export async function switchCamera(): Promise<void> {
  const c = getCall();
  if (!c?.local || c.type !== 'video') return;
  const facing = c.facing === 'user' ? 'environment' : 'user';
  let track: MediaStreamTrack | undefined;
  try {
    track = (await navigator.mediaDevices.getUserMedia({ video: { facingMode: { exact: facing } } })).getVideoTracks()[0];
  } catch {
    return;
  }
  const now = getCall();
  if (!track || !now?.local || now.id !== c.id) return void track?.stop();
  track.enabled = !now.cameraOff;
  await peer?.replaceTrack(track);
  for (const old of now.local.getVideoTracks()) {
    now.local.removeTrack(old);
    old.stop();
  }
  now.local.addTrack(track);
  patchCall({ facing, local: new MediaStream(now.local.getTracks()) });
}

/** Whether this browser can choose the audio output (speaker / earpiece / headset). */
export function canChooseOutput(): boolean {
  return 'setSinkId' in HTMLMediaElement.prototype;
}

/** The next audio output, in the order the browser lists them. */
export async function nextOutput(): Promise<void> {
  const c = getCall();
  if (!c) return;
  const outs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audiooutput');
  const ids = ['', ...outs.map((d) => d.deviceId).filter((id) => id && id !== 'default')];
  const i = ids.indexOf(c.sinkId);
  patchCall({ sinkId: ids[(i + 1) % ids.length] });
}

// --- what the server says --------------------------------------------------------------

function onIncoming(p: Pick<IncomingCall, 'callId' | 'remoteUserId' | 'callerName' | 'callType' | 'chatId' | 'isGroup'>): void {
  const c = getCall();
  if ((c && c.phase !== 'ended') || p.isGroup) return;
  clearTimeout(closeTimer);
  offer = null;
  candidates = [];
  const name = p.callerName || getState().users[p.remoteUserId]?.displayName || '';
  setCall(fresh({ id: p.callId, outgoing: false, type: p.callType, peerId: p.remoteUserId, peerName: name, chatId: p.chatId ?? null, phase: 'incoming' }));
  startTone('ring');
}

function onEnded(p: CallEnded): void {
  const c = mine(p.callId);
  if (!c) return;
  if (p.reason === 'answered_elsewhere' || (!c.outgoing && c.phase === 'incoming' && p.status === 'rejected')) return finish('ended', true);
  if (p.status === 'missed') return finish(c.outgoing ? (p.reason === 'timeout' ? 'noAnswer' : 'cancelled') : 'missed');
  if (p.status === 'rejected') return finish('declined');
  if (p.status === 'busy') return finish('busy');
  finish(p.status === 'failed' ? 'failed' : 'ended');
}

/** A tab opened while a call rings for me still rings. */
async function resumeRinging(): Promise<void> {
  if (getCall()) return;
  const me = getState().me?.id;
  const calls = await api<CallOut[]>('GET', '/calls/active').catch(() => []);
  const ringing = calls.find((c) => c.status === 'ringing' && c.receiverId === me);
  if (!ringing || getCall()) return;
  const name = ringing.caller?.displayName || ringing.caller?.username || '';
  onIncoming({ callId: ringing.id, remoteUserId: ringing.callerId, callerName: name, callType: ringing.type, chatId: ringing.chatId });
}

export function startCalls(): void {
  if (unsubscribe.length) return;
  unsubscribe = [
    onCallConnect(() => void resumeRinging()),
    onCallEvent<IncomingCall>(CallServerEvent.INCOMING_CALL, onIncoming),
    onCallEvent<CallAccepted>(CallServerEvent.CALL_ACCEPTED, (p) => {
      if (mine(p.callId)?.outgoing) {
        stopTone();
        patchCall({ phase: 'connecting' });
      }
    }),
    onCallEvent<CallRejected>(CallServerEvent.CALL_REJECTED, (p) => {
      if (mine(p.callId)) finish(p.reason === 'busy' ? 'busy' : 'declined');
    }),
    onCallEvent<CallEnded>(CallServerEvent.CALL_ENDED, onEnded),
    onCallEvent<CallAnsweredElsewhere>(CallServerEvent.CALL_ANSWERED_ELSEWHERE, (p) => {
      if (mine(p.callId)?.phase === 'incoming') finish('ended', true);
    }),
    onCallEvent<SdpRelayed>(CallServerEvent.SDP_OFFER, (p) => {
      if (!mine(p.callId)) return;
      if (peer) void peer.onOffer(p.sdp).catch(() => undefined);
      else offer = p.sdp;
    }),
    onCallEvent<SdpRelayed>(CallServerEvent.SDP_ANSWER, (p) => {
      if (mine(p.callId)) void peer?.onAnswer(p.sdp).catch(() => undefined);
    }),
    onCallEvent<IceRelayed>(CallServerEvent.ICE_CANDIDATE, (p) => {
      if (!mine(p.callId)) return;
      if (peer) void peer.onCandidate(p.candidate);
      else candidates.push(p.candidate);
    }),
  ];
  startCallSocket();
}

export function stopCalls(): void {
  hangUp();
  setCall(null);
  stopCallSocket();
  for (const off of unsubscribe) off();
  unsubscribe = [];
}
