/** A file of a message: its name, type and size; a link that downloads it with its name. */
import { formatSize, tm } from '../../../media/i18n';
import { freshAttachment } from '../../../media/fresh';
import type { AttachmentOut } from '../../../media/types';
import { MediaIcon } from './icons';

/** "PDF", "ZIP", or the MIME subtype when the name has no extension. */
export function typeLabel(name: string, mime: string): string {
  const ext = /\.([a-z0-9]{1,8})$/i.exec(name)?.[1];
  return (ext || mime.split('/')[1] || tm('file')).toUpperCase();
}

export function FileCard({ att }: { att: AttachmentOut }) {
  const type = typeLabel(att.name, att.mimeType);
  return (
    <a
      class="file-card"
      href={att.url}
      download={att.name}
      aria-label={tm('downloadName', { name: att.name })}
      onClick={(e) => {
        // The link in a cached message may have expired: a fresh one is fetched first.
        e.preventDefault();
        void freshAttachment(att.id).then((a) => download(a?.url || att.url, att.name));
      }}
    >
      <span class="file-icon">
        <MediaIcon name={att.kind === 'audio' ? 'music' : 'file'} />
      </span>
      <span class="file-text">
        <span class="file-name" dir="auto">
          {att.name}
        </span>
        <span class="file-meta">
          {type} · {formatSize(att.size)}
        </span>
      </span>
      <MediaIcon name="download" class="file-dl" />
    </a>
  );
}

/** Saves a URL under a name (an `<a download>` clicked on the member's behalf). */
export function download(url: string, name: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}
