/** The client's own media types: files waiting in the outbox until their upload is done. */

export type AttachmentKind = 'image' | 'video' | 'audio' | 'voice' | 'file';

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

/** docs/media.md's AttachmentOut (replaced by the generated type once the server has it). */
export interface AttachmentOut {
  id: string;
  kind: AttachmentKind;
  name: string;
  size: number;
  mimeType: string;
  width?: number | null;
  height?: number | null;
  durationMs?: number | null;
  waveform?: number[] | null;
  blurhash?: string | null;
  thumbnailUrl?: string | null;
  previewUrl?: string | null;
  url: string;
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
