/**
 * Wire types: generated from the protocol (src/inner_circle/protocol) by scripts/gen-client
 * into api/generated/, and the client's own types that never cross the wire.
 */
import type { ChatOut, InviteOut, Id } from './api/generated/rest';
import type { PendingAttachment } from './media/types';

export type {
  CallSummary,
  ChatOut,
  Id,
  InviteOut,
  MemberReadState,
  MessageOut,
  ReactionsUpdated,
  SearchHitOut,
  SearchPageOut,
  SyncEvent,
  SyncOut,
  TextRange,
  TokenPair,
  UserBrief,
  UserOut,
} from './api/generated/rest';
export type { ChatRemoved, Presence, ReadMarker, UserTyping } from './api/generated/events';

export type ChatType = ChatOut['type'];
export type InviteStatus = InviteOut['status'];

/** A message written here that the server has not confirmed yet. */
export interface OutboxItem {
  clientMessageId: string;
  chatId: Id;
  content: string;
  createdAt: string;
  /** queued: waits for the connection; sending: emitted, no ack yet; failed: the server refused it. */
  state: 'queued' | 'sending' | 'failed';
  /** The message this one answers. */
  replyToId?: Id;
  error?: string;
  /** Files sent with it (the content is then their caption, possibly empty). */
  attachments?: PendingAttachment[];
}
