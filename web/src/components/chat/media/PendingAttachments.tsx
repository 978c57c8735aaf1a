/** The files of a message still in the outbox: local previews and the upload's progress. */
import { useEffect, useState } from 'preact/hooks';
import { blobNow, getBlob } from '../../../media/blobs';
import { formatDuration, formatSize, tm, uploadErrorText } from '../../../media/i18n';
import { errorText } from '../../../i18n';
import type { PendingAttachment } from '../../../media/types';
import { useUploadProgress } from '../../../media/upload';
import type { OutboxItem } from '../../../types';
import { MediaIcon } from './icons';

/** An object URL for a queued file's bytes (from memory, or IndexedDB after a reload). */
export function useLocalUrl(localId: string | null): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!localId) return;
    let u: string | null = null;
    let live = true;
    const now = blobNow(localId);
    const show = (b: Blob | null) => {
      if (!b || !live) return;
      u = URL.createObjectURL(b);
      setUrl(u);
    };
    if (now) show(now);
    else void getBlob(localId).then(show);
    return () => {
      live = false;
      if (u) URL.revokeObjectURL(u);
    };
  }, [localId]);
  return url;
}

function LocalThumb({ att }: { att: PendingAttachment }) {
  const url = useLocalUrl(att.kind === 'image' && !att.attachmentId ? att.localId : null);
  if (url) return <img class="pending-thumb" src={url} alt={att.name} />;
  const icon = att.kind === 'voice' ? 'mic' : att.kind === 'video' ? 'movie' : att.kind === 'image' ? 'image' : 'file';
  return (
    <span class="pending-file">
      <MediaIcon name={icon} />
      <span class="file-name" dir="auto">
        {att.kind === 'voice' ? `${tm('voiceMessage')} ${formatDuration(att.durationMs)}` : att.name}
      </span>
      <span class="file-meta">{formatSize(att.size)}</span>
    </span>
  );
}

export function PendingAttachments({ item }: { item: OutboxItem }) {
  const done = useUploadProgress(item);
  const atts = item.attachments;
  if (!atts?.length) return null;
  const pct = Math.floor(done * 100);
  const waiting = item.state === 'queued' && !navigator.onLine;
  return (
    <div class="attachments pending-attachments">
      <div class={`pending-grid n-${Math.min(atts.length, 4)}`}>
        {atts.map((a) => (
          <LocalThumb key={a.localId} att={a} />
        ))}
      </div>
      {item.state === 'failed' && (
        <span class="upload-text upload-error">{uploadErrorText(item.error) ?? errorText(item.error)}</span>
      )}
      {item.state !== 'failed' && pct < 100 && (
        <div class="upload-progress">
          <progress max={100} value={pct} aria-label={tm('uploading', { p: pct })} />
          <span class="upload-text">{waiting ? tm('waitingUpload') : tm('uploading', { p: pct })}</span>
        </div>
      )}
    </div>
  );
}
