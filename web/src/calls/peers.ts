/**
 * The peer connections of the current call, by the other member's id (one in a 1:1 call,
 * one per other participant in a group call), what arrived for a peer before it existed,
 * and the end of a call: everything closed, the tracks stopped, the end screen.
 */
import { CallClientEvent, type CallClientEventName } from '../api/generated/events';
import { stopStream } from './media';
import { CallPeer } from './peer';
import { emitCall } from './signaling';
import { getCall, patchCall, setCall, type EndReason, type Member } from './state';
import { stopTone } from './tone';
import { holdScreen, releaseScreen } from './wakelock';

export const peers = new Map<string, CallPeer>();
/** Offers and candidates that came before their peer connection (while it rang). */
export const early = { offers: new Map<string, RTCSessionDescriptionInit>(), candidates: new Map<string, RTCIceCandidateInit[]>() };

/** How long the end screen stays (the outcome is worth reading, a plain hang-up is not). */
const END_SCREEN_MS = { quiet: 1500, outcome: 4000 };
/** The callee cannot restart ICE (only the caller offers): give the caller this long. */
const LOST_AFTER_MS = 30_000;
const TALKING_LEVEL = 0.02;

let closeTimer: ReturnType<typeof setTimeout> | undefined;
let lostTimer: ReturnType<typeof setTimeout> | undefined;
let onLost: (() => void) | null = null;

/** The call with this id, while it is not over. */
export function live(callId: string) {
  const c = getCall();
  return c && c.id === callId && c.phase !== 'ended' ? c : null;
}

export function cancelClose(): void {
  clearTimeout(closeTimer);
}

export function whenLost(fn: () => void): void {
  onLost = fn;
}

function patchMember(id: string, patch: Partial<Member>): void {
  const c = getCall();
  if (!c?.group) return;
  patchCall({ members: c.members.map((m) => (m.id === id ? { ...m, ...patch } : m)) });
}

/** The call's connection: connected while any peer is (a group call goes on without one). */
function aggregate(): RTCPeerConnectionState {
  const states = [...peers.values()].map((p) => p.pc.connectionState);
  for (const s of ['connected', 'connecting', 'disconnected', 'failed', 'new'] as const) if (states.includes(s)) return s;
  return 'new';
}

function onState(callId: string, remoteId: string, state: RTCPeerConnectionState): void {
  const c = live(callId);
  if (!c) return;
  patchMember(remoteId, { connection: state });
  const connection = aggregate();
  clearTimeout(lostTimer);
  if (connection === 'connected') {
    stopTone();
    holdScreen();
    patchCall({ connection, phase: 'active', connectedAt: getCall()?.connectedAt ?? Date.now() });
    return;
  }
  patchCall({ connection });
  if (connection === 'failed' || connection === 'disconnected') lostTimer = setTimeout(() => live(callId) && onLost?.(), LOST_AFTER_MS);
}

export function makePeer(callId: string, remoteId: string, ice: RTCIceServer[], local: MediaStream, offerer: boolean): CallPeer {
  const send = (event: CallClientEventName, payload: object) => void emitCall(event, { callId, ...payload }).catch(() => undefined);
  const peer = new CallPeer(
    ice,
    local,
    offerer,
    {
      // The seed's field names beside `targetId` (which picks the peer in a group call).
      offer: (sdp) => send(CallClientEvent.SDP_OFFER, { sdp, receiverId: remoteId, targetId: remoteId }),
      answer: (sdp) => send(CallClientEvent.SDP_ANSWER, { sdp, callerId: remoteId, targetId: remoteId }),
      candidate: (candidate) => send(CallClientEvent.ICE_CANDIDATE, { candidate, targetId: remoteId }),
    },
    {
      state: (s) => onState(callId, remoteId, s),
      remote: (stream) => {
        if (!live(callId)) return;
        if (getCall()?.group) patchMember(remoteId, { stream: new MediaStream(stream.getTracks()) });
        else patchCall({ remote: new MediaStream(stream.getTracks()) });
      },
      quality: (quality) => live(callId) && getCall()?.quality !== quality && patchCall({ quality }),
      level: (level) => {
        const c = live(callId);
        const talking = level > TALKING_LEVEL;
        if (!c) return;
        if (c.group) {
          if (c.members.find((m) => m.id === remoteId)?.talking !== talking) patchMember(remoteId, { talking });
        } else if (c.remoteTalking !== talking) patchCall({ remoteTalking: talking });
      },
    },
  );
  peers.set(remoteId, peer);
  const offer = early.offers.get(remoteId);
  for (const cand of early.candidates.get(remoteId) || []) void peer.onCandidate(cand);
  early.offers.delete(remoteId);
  early.candidates.delete(remoteId);
  if (offer) void peer.onOffer(offer).catch(() => undefined);
  return peer;
}

export function dropPeer(remoteId: string): void {
  peers.get(remoteId)?.close();
  peers.delete(remoteId);
}

/** Tears the call down locally and shows why; the end screen closes by itself. */
export function finish(reason: EndReason, quiet = false): void {
  const c = getCall();
  for (const id of [...peers.keys()]) dropPeer(id);
  early.offers.clear();
  early.candidates.clear();
  clearTimeout(lostTimer);
  stopTone();
  releaseScreen();
  stopStream(c?.local);
  if (!c) return;
  if (quiet) return setCall(null);
  setCall({ ...c, phase: 'ended', endReason: reason, local: null, remote: null, remoteTalking: false, members: [] });
  clearTimeout(closeTimer);
  closeTimer = setTimeout(
    () => {
      if (getCall()?.phase === 'ended') setCall(null);
    },
    reason === 'ended' ? END_SCREEN_MS.quiet : END_SCREEN_MS.outcome,
  );
}
