/** Media types: the wire's (generated) and the client's own (files waiting in the outbox). */
import type { AttachmentOut } from '../api/generated/rest';

export type {
  AttachmentOut,
  ChatMediaItem,
  ChatMediaPage,
  StorageOut,
  UploadStatusOut,
} from '../api/generated/rest';
export type AttachmentKind = AttachmentOut['kind'];

/** One file of a queued message: uploaded with tus, then named in the send by its id. */
export interface PendingAttachment {
  /** Key of the file's bytes in IndexedDB (they survive a reload) and in memory. */
  localId: string;
  kind: AttachmentKind;
  name: string;
  size: number;
  mimeType: string;
  width?: number;
  height?: number;
  durationMs?: number;
  waveform?: number[];
  /** The tus upload's address once created: resuming continues there. */
  uploadUrl?: string;
  /** Set when the upload is complete: the id the message is sent with. */
  attachmentId?: string;
}


/** A photo in the viewer, and the message it belongs to. */
export interface ViewerItem {
  att: AttachmentOut;
  messageId: string;
}

export interface ViewerProps {
  items: ViewerItem[];
  startId: string;
  onClose: () => void;
}
