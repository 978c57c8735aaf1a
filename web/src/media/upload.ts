/**
 * Sending files: a message with attachments goes into the outbox like a text one (same
 * client id, so it is stored once however often it is sent), with its files listed and their
 * bytes in IndexedDB. Each file is uploaded with tus (resumable: after going offline, a
 * reload or leaving the chat it continues where it stopped); once all are uploaded the
 * outbox sends the message with their ids. Progress is kept here, not in the store, since
 * it changes many times a second and must not rewrite the cache.
 */
import { useEffect, useState } from 'preact/hooks';
import { accessToken, api, refresh, type ApiError } from '../api';
import { flushOutbox, send } from '../chats';
import { getState, setState, subscribe } from '../store';
import type { Id, OutboxItem } from '../types';
import { dropBlob, getBlob, putBlob } from './blobs';
import type { AttachmentKind, PendingAttachment, UploadStatusOut } from './types';

/** A file the member picked or recorded, before it is queued. */
export interface NewFile {
  blob: Blob;
  name: string;
  kind: AttachmentKind;
  width?: number;
  height?: number;
  durationMs?: number;
  waveform?: number[];
}

const PARALLEL = 2;
/** docs/media.md: one PATCH must arrive within 10 s. */
const CHUNK = 4 * 1024 * 1024;
const POLL_MS = 500;

interface Running {
  abort: () => void;
}
const running = new Map<string, Running>();
/** The files the outbox named at the last pump. */
let known = new Set<string>();
const progress = new Map<string, number>();
const listeners = new Set<() => void>();

function notify(): void {
  for (const fn of listeners) fn();
}

export function kindOf(mime: string): AttachmentKind {
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('video/')) return 'video';
  if (mime.startsWith('audio/')) return 'audio';
  return 'file';
}

/** Queues a message with files (and an optional caption) and starts uploading them. */
export async function sendWithFiles(
  chatId: Id,
  caption: string,
  files: NewFile[],
  replyToId?: Id,
): Promise<void> {
  const attachments: PendingAttachment[] = [];
  for (const f of files) {
    const localId = crypto.randomUUID();
    await putBlob(localId, f.blob);
    attachments.push({
      localId,
      kind: f.kind,
      name: f.name,
      size: f.blob.size,
      mimeType: f.blob.type || 'application/octet-stream',
      width: f.width,
      height: f.height,
      durationMs: f.durationMs,
      waveform: f.waveform,
    });
  }
  send(chatId, caption, attachments, replyToId);
  pump();
}

function patchAttachment(cid: string, localId: string, patch: Partial<PendingAttachment>): void {
  setState((s) => ({
    outbox: s.outbox.map((o) =>
      o.clientMessageId === cid
        ? { ...o, attachments: o.attachments?.map((a) => (a.localId === localId ? { ...a, ...patch } : a)) }
        : o,
    ),
  }));
}

function failItem(cid: string, code: string): void {
  setState((s) => ({
    outbox: s.outbox.map((o) => (o.clientMessageId === cid ? { ...o, state: 'failed', error: code } : o)),
  }));
}

/** Starts the uploads that should run now (online, not refused, not running yet). */
export function pump(): void {
  const s = getState();
  if (!s.me || !navigator.onLine) return;
  const live = new Set<string>();
  for (const o of s.outbox) for (const a of o.attachments || []) live.add(a.localId);
  // The bytes of messages that left the outbox without being uploaded (removed) go too.
  for (const id of known) if (!live.has(id) && !running.has(id)) void dropBlob(id);
  known = live;
  // Messages removed from the outbox (discarded, chat gone): their uploads stop.
  for (const [id, r] of running) {
    if (!live.has(id)) {
      r.abort();
      running.delete(id);
      progress.delete(id);
      void dropBlob(id);
    }
  }
  for (const o of s.outbox) {
    if (o.state === 'failed') continue;
    for (const a of o.attachments || []) {
      if (running.size >= PARALLEL) return;
      if (!a.attachmentId && !running.has(a.localId)) void start(o, a);
    }
  }
}

async function start(item: OutboxItem, att: PendingAttachment): Promise<void> {
  const cid = item.clientMessageId;
  let aborted = false;
  let upload: { abort: (terminate?: boolean) => Promise<void> } | null = null;
  running.set(att.localId, {
    abort: () => {
      aborted = true;
      void upload?.abort(true).catch(() => undefined);
    },
  });
  const finish = (later = false) => {
    running.delete(att.localId);
    notify();
    // After a network failure the next try waits a little (tus has retried already).
    if (later) setTimeout(pump, 5000);
    else pump();
  };
  const blob = await getBlob(att.localId);
  if (!blob) {
    // The bytes are gone (storage cleared): the message cannot be sent as it was.
    failItem(cid, 'UPLOAD_LOST');
    finish();
    return;
  }
  const { Upload } = await import('tus-js-client');
  if (aborted) return;
  const u = new Upload(blob, {
    endpoint: `${location.origin}/uploads`,
    uploadUrl: att.uploadUrl || null,
    chunkSize: CHUNK,
    retryDelays: [0, 1000, 3000, 5000, 10000],
    storeFingerprintForResuming: false,
    removeFingerprintOnSuccess: true,
    metadata: uploadMetadata(att),
    onBeforeRequest: async (req) => {
      const token = await accessToken();
      if (token) req.setHeader('Authorization', `Bearer ${token}`);
    },
    onShouldRetry: (err, _attempt, _opts) => {
      const status = err.originalResponse?.getStatus() ?? 0;
      if (status === 401) {
        void refresh().catch(() => undefined);
        return true;
      }
      // Refused (too large, not allowed): no point in trying again; the rest may pass.
      return !(status >= 400 && status < 500 && status !== 409 && status !== 423 && status !== 429);
    },
    onUploadUrlAvailable: () => {
      if (u.url && u.url !== att.uploadUrl) patchAttachment(cid, att.localId, { uploadUrl: u.url });
    },
    onProgress: (sent, total) => {
      progress.set(att.localId, total ? sent / total : 0);
      notify();
    },
    onSuccess: () => {
      void complete(cid, att, u.url || '').finally(finish);
    },
    onError: (err) => {
      const status = (err as { originalResponse?: { getStatus(): number } }).originalResponse?.getStatus() ?? 0;
      if (status === 404 || status === 410) patchAttachment(cid, att.localId, { uploadUrl: undefined });
      else if (status === 413) failItem(cid, 'PAYLOAD_TOO_LARGE');
      else if (status >= 400 && status < 500 && status !== 401 && status !== 429) failItem(cid, codeOf(err));
      // Otherwise (offline, server away): it continues on `online` or a moment later.
      finish(true);
    },
  });
  upload = u;
  u.start();
}

function codeOf(err: Error): string {
  try {
    const body = (err as { originalResponse?: { getBody(): string } }).originalResponse?.getBody();
    return (body && JSON.parse(body).code) || 'VALIDATION_ERROR';
  } catch {
    return 'VALIDATION_ERROR';
  }
}

function uploadMetadata(a: PendingAttachment): Record<string, string> {
  const m: Record<string, string> = { filename: a.name, filetype: a.mimeType };
  if (a.kind === 'voice') m.kind = 'voice';
  if (a.durationMs != null) m.durationMs = String(Math.max(1, Math.round(a.durationMs)));
  if (a.waveform?.length) m.waveform = a.waveform.join(',');
  return m;
}

/**
 * All bytes are there: the server checks and processes the file; once it is `ready` its id
 * (the upload's) goes into the outbox item and the message can be sent.
 */
async function complete(cid: string, att: PendingAttachment, url: string): Promise<void> {
  const id = url.split('/').filter(Boolean).pop() || '';
  for (;;) {
    let st: UploadStatusOut;
    try {
      st = await api<UploadStatusOut>('GET', `/uploads/${id}`);
    } catch (e) {
      if ((e as ApiError).status === 404) patchAttachment(cid, att.localId, { uploadUrl: undefined });
      return; // offline or gone: the next pump starts over (HEAD says it is all there)
    }
    if (st.status === 'ready') break;
    if (st.status === 'failed') {
      failItem(cid, st.error?.code || 'UNSUPPORTED_MEDIA');
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (!getState().outbox.some((o) => o.clientMessageId === cid)) return;
  }
  patchAttachment(cid, att.localId, { attachmentId: id });
  progress.set(att.localId, 1);
  await dropBlob(att.localId);
  void flushOutbox();
}

/** Overall progress (0..1) of a queued message's uploads, live. */
export function useUploadProgress(item: OutboxItem): number {
  const [, force] = useState(0);
  useEffect(() => {
    const fn = () => force((n) => n + 1);
    listeners.add(fn);
    return () => void listeners.delete(fn);
  }, []);
  const atts = item.attachments || [];
  const total = atts.reduce((n, a) => n + a.size, 0) || 1;
  const done = atts.reduce((n, a) => n + a.size * (a.attachmentId ? 1 : progress.get(a.localId) || 0), 0);
  return done / total;
}

// Uploads start (again) when the outbox changes (a new message, a reload's restore, a retry),
// after signing in, and when the browser is back online.
let lastOutbox: OutboxItem[] | null = null;
let lastMe: unknown = null;
subscribe(() => {
  const { outbox, me } = getState();
  if (outbox !== lastOutbox || me !== lastMe) {
    lastOutbox = outbox;
    lastMe = me;
    pump();
  }
});
window.addEventListener('online', () => pump());
