/** The one call of this tab (ringing, in progress or just ended), outside the chat store. */
import { useEffect, useState } from 'preact/hooks';
import type { Quality } from './peer';

export type CallType = 'audio' | 'video';
export type Phase = 'outgoing' | 'incoming' | 'connecting' | 'active' | 'ended';
/** Why it ended, from this member's side (the end screen and the toast say it). */
export type EndReason = 'ended' | 'declined' | 'busy' | 'noAnswer' | 'cancelled' | 'missed' | 'failed' | 'selfBusy' | 'noMedia' | 'error';

/** Someone else in a group call, with their own peer connection. */
export interface Member {
  id: string;
  name: string;
  stream: MediaStream | null;
  connection: RTCPeerConnectionState;
  talking: boolean;
}

export interface CallView {
  /** null while the call is being initiated. */
  id: string | null;
  outgoing: boolean;
  type: CallType;
  peerId: string;
  peerName: string;
  chatId: string | null;
  phase: Phase;
  connection: RTCPeerConnectionState;
  connectedAt: number | null;
  endReason: EndReason | null;
  muted: boolean;
  cameraOff: boolean;
  canSwitchCamera: boolean;
  canChooseOutput: boolean;
  facing: 'user' | 'environment';
  /** The audio output chosen with setSinkId ('' = the default one). */
  sinkId: string;
  quality: Quality | null;
  remoteTalking: boolean;
  local: MediaStream | null;
  remote: MediaStream | null;
  /** A group call (mesh): `peerId`/`peerName` are the chat's, `members` the others in it. */
  group: boolean;
  members: Member[];
}

let current: CallView | null = null;
const listeners = new Set<(c: CallView | null) => void>();

export function getCall(): CallView | null {
  return current;
}

export function setCall(next: CallView | null): void {
  current = next;
  for (const fn of listeners) fn(next);
}

export function patchCall(patch: Partial<CallView>): void {
  if (current) setCall({ ...current, ...patch });
}

export function useCall(): CallView | null {
  const [c, set] = useState(current);
  useEffect(() => {
    listeners.add(set);
    set(current);
    return () => void listeners.delete(set);
  }, []);
  return c;
}

/** A new call's view: nothing muted, nothing connected yet. */
export function fresh(p: Pick<CallView, 'id' | 'outgoing' | 'type' | 'peerId' | 'peerName' | 'chatId' | 'phase'>): CallView {
  return {
    ...p,
    connection: 'new',
    connectedAt: null,
    endReason: null,
    muted: false,
    cameraOff: false,
    canSwitchCamera: false,
    canChooseOutput: false,
    facing: 'user',
    sinkId: '',
    quality: null,
    remoteTalking: false,
    local: null,
    remote: null,
    group: false,
    members: [],
  };
}
