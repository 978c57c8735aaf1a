/**
 * The call use cases of this tab: start, ring, accept, decline, hang up, the in-call
 * controls, and what the `/calls` events do to the call (docs/calls.md). One call at a
 * time; a second incoming call while on one is the server's "busy", never shown here.
 */
import { api, type ApiError } from '../api';
import type { CallOut } from '../api/generated/rest';
import {
  CallClientEvent,
  CallServerEvent,
  type CallAccepted,
  type CallAnsweredElsewhere,
  type CallEnded,
  type CallRejected,
  type GroupCallParticipants,
  type IceRelayed,
  type IncomingCall,
  type SdpRelayed,
} from '../api/generated/events';
import { getState } from '../store';
import { answerMember, forgetGroupCall, joinGroupCall, onGroupIncoming, onParticipants } from './group';
import { choices, iceServers, media, stopStream } from './media';
import { cancelClose, early, finish, live, makePeer, peers, whenLost } from './peers';
import { CallError, emitCall, onCallConnect, onCallEvent, startCallSocket, stopCallSocket } from './signaling';
import { fresh, getCall, patchCall, setCall, type CallType, type EndReason } from './state';
import { startTone, stopTone } from './tone';

let cancelled = false;
let unsubscribe: (() => void)[] = [];

export function dismissCall(): void {
  if (getCall()?.phase === 'ended') setCall(null);
}

/** Calls a member from a private chat or their profile. */
export async function startCall(peerId: string, peerName: string, type: CallType, chatId: string | null = null): Promise<void> {
  const now = getCall();
  if (now && now.phase !== 'ended') return;
  cancelClose();
  cancelled = false;
  setCall(fresh({ id: null, outgoing: true, type, peerId, peerName, chatId, phase: 'outgoing' }));
  let local: MediaStream;
  try {
    local = await media(type);
  } catch {
    return finish('noMedia');
  }
  if (cancelled) return stopStream(local);
  patchCall({ local, ...(await choices(type)) });
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
  // The offer goes out at once: the server keeps it for the device that will accept.
  makePeer(call.id, peerId, ice, local, true);
}

export async function acceptCall(): Promise<void> {
  const c = getCall();
  if (!c || c.phase !== 'incoming' || !c.id) return;
  if (c.group) return joinGroupCall(c.id, c.chatId, c.peerName, c.type);
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
  if (!live(callId)) return stopStream(local);
  patchCall({ local, ...(await choices(c.type)) });
  try {
    await emitCall(CallClientEvent.ACCEPT_CALL, { callId, callerId: c.peerId });
  } catch (e) {
    // Taken on another device, cancelled or timed out meanwhile.
    return finish((e as CallError).code === 'CALL_NOT_RINGING' ? 'missed' : 'error');
  }
  // What the caller sent while it rang: here already, or kept by the server.
  const stored = early.offers.has(c.peerId) ? null : await api<CallOut>('GET', `/calls/${callId}`).catch(() => null);
  const ice = await iceServers();
  if (!live(callId)) return;
  if (stored?.sdpOffer) early.offers.set(c.peerId, stored.sdpOffer);
  early.candidates.set(c.peerId, [...(stored?.callerIceCandidates || []), ...(early.candidates.get(c.peerId) || [])]);
  makePeer(callId, c.peerId, ice, local, false);
}

export function declineCall(): void {
  const c = getCall();
  if (!c?.id || c.phase !== 'incoming') return;
  const callId = c.id;
  // Without the socket (a short drop) the REST route says it.
  void emitCall(CallClientEvent.REJECT_CALL, { callId, remoteUserId: c.peerId }).catch(() =>
    api('POST', '/calls/respond', { callId, action: 'reject' }).catch(() => undefined),
  );
  finish('declined', true);
}

/** Hang up, cancel while it rings, or leave a group call. */
export function hangUp(reason: EndReason = 'ended'): void {
  const c = getCall();
  if (!c || c.phase === 'ended') return;
  if (!c.id) {
    cancelled = true;
    return finish('cancelled');
  }
  const callId = c.id;
  const event = c.group ? CallClientEvent.LEAVE_GROUP_CALL : CallClientEvent.END_CALL;
  // Without the socket (a short drop) the REST route ends a 1:1 call; a group call is left
  // by the server when my last /calls connection closes.
  void emitCall(event, { callId, remoteUserId: c.peerId }).catch(() => {
    if (!c.group) void api('POST', `/calls/${callId}/end`).catch(() => undefined);
  });
  finish(c.phase === 'outgoing' && !c.group ? 'cancelled' : reason);
}
whenLost(() => hangUp('failed'));

// --- in-call controls ------------------------------------------------------------------

/** Mute and camera off disable the local tracks: nothing to renegotiate. */
function toggleTracks(kind: 'audio' | 'video', flag: 'muted' | 'cameraOff'): void {
  const c = getCall();
  if (!c?.local) return;
  const off = !c[flag];
  for (const t of c.local.getTracks()) if (t.kind === kind) t.enabled = !off;
  patchCall({ [flag]: off });
}

export const toggleMute = () => toggleTracks('audio', 'muted');
export const toggleCamera = () => toggleTracks('video', 'cameraOff');

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
  for (const p of peers.values()) await p.replaceTrack(track);
  for (const old of now.local.getVideoTracks()) {
    now.local.removeTrack(old);
    old.stop();
  }
  now.local.addTrack(track);
  patchCall({ facing, local: new MediaStream(now.local.getTracks()) });
}

/** The next audio output, in the order the browser lists them. */
export async function nextOutput(): Promise<void> {
  const c = getCall();
  if (!c) return;
  const outs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audiooutput');
  const ids = ['', ...outs.map((d) => d.deviceId).filter((id) => id && id !== 'default')];
  patchCall({ sinkId: ids[(ids.indexOf(c.sinkId) + 1) % ids.length] });
}

// --- what the server says --------------------------------------------------------------

/** The server ends an unanswered call (`call_ended`); should that event be lost with the
 * socket, the ringing still stops a little after the ring time. */
const RING_GRACE_MS = 5000;
let ringTimer: ReturnType<typeof setTimeout> | undefined;

function stopRingingAt(callId: string, ringUntil: string | undefined): void {
  clearTimeout(ringTimer);
  const at = ringUntil ? Date.parse(ringUntil) : NaN;
  if (Number.isNaN(at)) return;
  // Clamped: this device's clock may be off the server's.
  const wait = Math.min(Math.max(at - Date.now(), 10_000), 120_000) + RING_GRACE_MS;
  ringTimer = setTimeout(() => {
    const c = live(callId);
    if (c?.phase === 'incoming') finish('missed', c.group);
  }, wait);
}

function onIncoming(p: Pick<IncomingCall, 'callId' | 'remoteUserId' | 'callerName' | 'callType' | 'chatId' | 'isGroup' | 'ringUntil'>): void {
  stopRingingAt(p.callId, p.ringUntil);
  if (p.isGroup) {
    const chat = p.chatId ? getState().chats[p.chatId] : undefined;
    return onGroupIncoming(p as IncomingCall, chat?.name || p.callerName);
  }
  const c = getCall();
  if (c && c.phase !== 'ended') return;
  cancelClose();
  early.offers.clear();
  early.candidates.clear();
  const name = p.callerName || getState().users[p.remoteUserId]?.displayName || '';
  setCall(fresh({ id: p.callId, outgoing: false, type: p.callType, peerId: p.remoteUserId, peerName: name, chatId: p.chatId ?? null, phase: 'incoming' }));
  startTone('ring');
}

function onEnded(p: CallEnded): void {
  forgetGroupCall(p.callId);
  const c = live(p.callId);
  if (!c) return;
  if (p.reason === 'answered_elsewhere' || (!c.outgoing && c.phase === 'incoming' && p.status === 'rejected')) return finish('ended', true);
  if (c.group && c.phase === 'incoming') return finish('missed', true);
  if (p.status === 'missed') return finish(c.outgoing ? (p.reason === 'timeout' ? 'noAnswer' : 'cancelled') : 'missed');
  if (p.status === 'rejected') return finish('declined');
  if (p.status === 'busy') return finish('busy');
  finish(p.status === 'failed' ? 'failed' : 'ended');
}

function onOffer(p: SdpRelayed): void {
  const c = live(p.callId);
  if (!c) return;
  if (c.group && c.phase !== 'incoming') return void answerMember(p.callId, p.from, p.sdp).catch(() => undefined);
  const peer = peers.get(p.from);
  if (peer) void peer.onOffer(p.sdp).catch(() => undefined);
  else early.offers.set(p.from, p.sdp);
}

function onCandidate(p: IceRelayed): void {
  if (!live(p.callId)) return;
  const peer = peers.get(p.from);
  if (peer) return void peer.onCandidate(p.candidate);
  early.candidates.set(p.from, [...(early.candidates.get(p.from) || []), p.candidate]);
}

/** A tab opened while a call rings for me still rings. */
async function resumeRinging(): Promise<void> {
  if (getCall()) return;
  const me = getState().me?.id;
  const calls = await api<CallOut[]>('GET', '/calls/active').catch(() => []);
  const ringing = calls.find((c) => c.status === 'ringing' && c.receiverId === me);
  if (!ringing || getCall()) return;
  const name = ringing.caller?.displayName || ringing.caller?.username || '';
  onIncoming({
    callId: ringing.id,
    remoteUserId: ringing.callerId,
    callerName: name,
    callType: ringing.type,
    chatId: ringing.chatId,
    ringUntil: ringing.ringUntil,
  });
}

export function startCalls(): void {
  if (unsubscribe.length) return;
  unsubscribe = [
    onCallConnect(() => void resumeRinging()),
    onCallEvent<IncomingCall>(CallServerEvent.INCOMING_CALL, onIncoming),
    onCallEvent<CallAccepted>(CallServerEvent.CALL_ACCEPTED, (p) => {
      if (live(p.callId)?.outgoing) {
        stopTone();
        patchCall({ phase: 'connecting' });
      }
    }),
    onCallEvent<CallRejected>(CallServerEvent.CALL_REJECTED, (p) => {
      if (live(p.callId) && !getCall()?.group) finish(p.reason === 'busy' ? 'busy' : 'declined');
    }),
    onCallEvent<CallEnded>(CallServerEvent.CALL_ENDED, onEnded),
    onCallEvent<CallAnsweredElsewhere>(CallServerEvent.CALL_ANSWERED_ELSEWHERE, (p) => {
      if (live(p.callId)?.phase === 'incoming') finish('ended', true);
    }),
    onCallEvent<SdpRelayed>(CallServerEvent.SDP_OFFER, onOffer),
    onCallEvent<SdpRelayed>(CallServerEvent.SDP_ANSWER, (p) => {
      if (live(p.callId)) void peers.get(p.from)?.onAnswer(p.sdp).catch(() => undefined);
    }),
    onCallEvent<IceRelayed>(CallServerEvent.ICE_CANDIDATE, onCandidate),
    onCallEvent<GroupCallParticipants>(CallServerEvent.GROUP_CALL_PARTICIPANTS, onParticipants),
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
