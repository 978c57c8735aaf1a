/**
 * Group calls in a group or the family chat (docs/calls.md, "Group calls"): a mesh of up
 * to 4. Whoever joins offers to each member already in; the others answer the offers that
 * come to them. The server says who is in (`group_call_participants`).
 */
import { api, type ApiError } from '../api';
import { CallClientEvent, type GroupCallParticipants, type IncomingCall } from '../api/generated/events';
import { getState } from '../store';
import { choices, iceServers, media, stopStream } from './media';
import { cancelClose, dropPeer, finish, live, makePeer, peers } from './peers';
import { CallError, emitCall } from './signaling';
import { fresh, getCall, patchCall, setCall, type CallType, type Member } from './state';
import { startTone, stopTone } from './tone';

/** Live group calls I was told about, by chat: the chat's header offers to join. */
const liveInChat = new Map<string, string>();
const listeners = new Set<() => void>();

export function groupCallIn(chatId: string): string | undefined {
  return liveInChat.get(chatId);
}

export function onGroupCalls(fn: () => void): () => void {
  listeners.add(fn);
  return () => void listeners.delete(fn);
}

function noteLive(chatId: string | null | undefined, callId: string | null): void {
  if (!chatId) return;
  if (callId) liveInChat.set(chatId, callId);
  else liveInChat.delete(chatId);
  for (const fn of listeners) fn();
}

export function forgetGroupCall(callId: string): void {
  for (const [chatId, id] of liveInChat) if (id === callId) noteLive(chatId, null);
}

function member(id: string): Member {
  const u = getState().users[id];
  return { id, name: u?.displayName || u?.username || '…', stream: null, connection: 'new', talking: false };
}

function setMembers(ids: string[]): void {
  const c = getCall();
  if (!c) return;
  const me = getState().me?.id;
  const kept = c.members.filter((m) => ids.includes(m.id));
  const added = ids.filter((id) => id !== me && !kept.some((m) => m.id === id)).map(member);
  patchCall({ members: [...kept, ...added] });
}

export function onGroupIncoming(p: IncomingCall, chatName: string): void {
  noteLive(p.chatId, p.callId);
  const c = getCall();
  if (c && c.phase !== 'ended') return;
  cancelClose();
  setCall({ ...fresh({ id: p.callId, outgoing: false, type: p.callType, peerId: p.chatId || p.callId, peerName: chatName, chatId: p.chatId ?? null, phase: 'incoming' }), group: true });
  startTone('ring');
}

/** Start a call in a group chat; one already going on there is joined instead. */
export async function startGroupCall(chatId: string, chatName: string, type: CallType): Promise<void> {
  const known = liveInChat.get(chatId);
  if (known) return joinGroupCall(known, chatId, chatName, type);
  const now = getCall();
  if (now && now.phase !== 'ended') return;
  cancelClose();
  setCall({ ...fresh({ id: null, outgoing: true, type, peerId: chatId, peerName: chatName, chatId, phase: 'outgoing' }), group: true });
  let local: MediaStream;
  try {
    local = await media(type);
  } catch {
    return finish('noMedia');
  }
  patchCall({ local, ...(await choices(type)) });
  try {
    const call = await api<{ id: string }>('POST', '/calls/initiate', { chatId, type });
    if (!getCall() || getCall()?.phase === 'ended') {
      void emitCall(CallClientEvent.LEAVE_GROUP_CALL, { callId: call.id }).catch(() => undefined);
      return stopStream(local);
    }
    noteLive(chatId, call.id);
    patchCall({ id: call.id });
  } catch (e) {
    return finish((e as ApiError).code === 'CALL_BUSY' ? 'selfBusy' : 'error');
  }
}

/** Join (or accept the ring of) a group call: offer to everyone already in it. */
export async function joinGroupCall(callId: string, chatId: string | null, chatName: string, type: CallType): Promise<void> {
  const c = getCall();
  if (c && c.phase !== 'ended' && c.id !== callId) return;
  cancelClose();
  stopTone();
  if (!c || c.id !== callId) setCall({ ...fresh({ id: callId, outgoing: false, type, peerId: chatId || callId, peerName: chatName, chatId, phase: 'connecting' }), group: true });
  else patchCall({ phase: 'connecting' });
  let local: MediaStream;
  try {
    local = await media(getCall()!.type);
  } catch {
    return finish('noMedia');
  }
  if (!live(callId)) return stopStream(local);
  patchCall({ local, ...(await choices(type)) });
  let already: string[];
  try {
    already = (await emitCall<{ participants: string[] }>(CallClientEvent.JOIN_GROUP_CALL, { callId })).participants;
  } catch (e) {
    if ((e as CallError).code === 'CALL_ENDED' || (e as CallError).code === 'NOT_FOUND') forgetGroupCall(callId);
    return finish((e as CallError).code === 'CALL_BUSY' ? 'busy' : 'error');
  }
  const ice = await iceServers();
  if (!live(callId)) return;
  setMembers(already);
  for (const id of already) makePeer(callId, id, ice, local, true);
}

/** Someone joined or left: the tiles follow; a leaver's connection closes. */
export function onParticipants(p: GroupCallParticipants): void {
  noteLive(getCall()?.id === p.callId ? getCall()?.chatId : null, p.callId);
  const c = live(p.callId);
  if (!c?.group || c.phase === 'incoming') return;
  if (p.left) dropPeer(p.left);
  setMembers(p.participants);
  if (c.outgoing && c.phase === 'outgoing' && p.joined) patchCall({ phase: 'connecting' });
}

/** An offer from a member who joined after me: answer it on a new connection. */
export async function answerMember(callId: string, from: string, sdp: RTCSessionDescriptionInit): Promise<void> {
  const c = live(callId);
  if (!c?.local) return;
  const existing = peers.get(from);
  if (existing) return existing.onOffer(sdp);
  const ice = await iceServers();
  if (!live(callId) || peers.has(from)) return peers.get(from)?.onOffer(sdp);
  if (!getCall()?.members.some((m) => m.id === from)) patchCall({ members: [...getCall()!.members, member(from)] });
  await makePeer(callId, from, ice, c.local, false).onOffer(sdp);
}
