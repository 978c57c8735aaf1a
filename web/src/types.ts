export type Id = string;

export interface UserBrief {
  id: Id;
  username: string;
  displayName: string;
}

export interface UserOut extends UserBrief {
  isAdmin: boolean;
  isActive: boolean;
  isOnline: boolean;
  lastSeenAt: string | null;
  createdAt: string;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  user: UserOut;
}

export interface MessageOut {
  id: Id;
  chatId: Id;
  seq: number;
  senderId: Id;
  sender: UserBrief;
  content: string;
  clientMessageId: string | null;
  createdAt: string;
  updatedAt: string;
  /** Set once the sender changed the text. */
  editedAt?: string | null;
  /** Set once deleted for everyone; `content` is then empty. */
  deletedAt?: string | null;
}

export interface MemberReadState {
  userId: Id;
  lastReadSeq: number;
  lastDeliveredSeq: number;
}

export type ChatType = 'family' | 'private' | 'group';

export interface ChatOut {
  id: Id;
  name: string;
  type: ChatType;
  participants: UserBrief[];
  participantIds: Id[];
  lastMessage: MessageOut | null;
  lastSeq: number;
  lastReadSeq: number;
  unreadCount: number;
  readStates: MemberReadState[];
  createdAt: string;
  updatedAt: string;
}

export type InviteStatus = 'active' | 'used' | 'expired' | 'revoked';

export interface InviteOut {
  id: Id;
  code: string;
  usageLimit: number;
  usedCount: number;
  isUsed: boolean;
  isAdmin: boolean;
  status: InviteStatus;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
  createdById: Id | null;
}

export interface ReadMarker {
  chatId: Id;
  userId: Id;
  seq: number;
}

export interface UserTyping {
  chatId: Id;
  userId: Id;
  username: string;
  displayName: string;
  isTyping: boolean;
}

export interface Presence {
  userId: Id;
  isOnline: boolean;
  lastSeenAt: string | null;
}

/** A message written here that the server has not confirmed yet. */
export interface OutboxItem {
  clientMessageId: string;
  chatId: Id;
  content: string;
  createdAt: string;
  /** queued: waits for the connection; sending: emitted, no ack yet; failed: the server refused it. */
  state: 'queued' | 'sending' | 'failed';
  error?: string;
}

/** One change from `GET /sync`; `type` says which other field is set. */
export interface SyncEvent {
  id: number;
  type: 'message' | 'messageUpdated' | 'chat' | 'chatRemoved' | 'read' | 'delivered' | 'user';
  message?: MessageOut | null;
  chat?: ChatOut | null;
  chatId?: Id | null;
  userId?: Id | null;
  seq?: number | null;
  user?: UserOut | null;
}

/** `GET /sync`: events after `since`, or (without it, or on `reset`) a fresh start. */
export interface SyncOut {
  /** Opaque (`<epoch>:<id>`): store it and send it back as `since`. */
  cursor: string;
  hasMore: boolean;
  reset: boolean;
  events: SyncEvent[];
  chats?: ChatOut[] | null;
  messages?: MessageOut[] | null;
}
