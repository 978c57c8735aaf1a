/**
 * What a message carries: photos and videos at their size (BlurHash first, then the
 * thumbnail; a tap opens the viewer), voice messages and audio with a player, files as
 * cards. The viewer is loaded on first use.
 */
import { useState } from 'preact/hooks';
import './media.css';
import { formatDuration, tm } from '../../../media/i18n';
import type { AttachmentOut, ViewerItem } from '../../../media/types';
import { getState } from '../../../store';
import type { Id, MessageOut } from '../../../types';
import { BlurHash, BlurImage } from './Blur';
import { FileCard } from './FileCard';
import { LazyViewer } from './LazyViewer';
import { VoicePlayer } from './VoicePlayer';

export function attachmentsOf(m: MessageOut): AttachmentOut[] {
  return m.attachments || [];
}

/** The text to show under the attachments: the caption (`content` is a fallback for old apps). */
export function captionOf(m: MessageOut): string {
  return m.attachments?.length ? (m.caption ?? '') : m.content;
}

const MAX_W = 280;
const MAX_H = 360;

/** The box a single picture gets in the bubble, from its own size. */
function boxOf(a: AttachmentOut): { width: number; height: number } {
  const w = a.width || 4;
  const h = a.height || 3;
  const scale = Math.min(MAX_W / w, MAX_H / h, 1.5);
  return { width: Math.max(120, Math.round(w * scale)), height: Math.max(80, Math.round(h * scale)) };
}

/** Every photo of the chat that is loaded, oldest first: the viewer swipes through them. */
export function chatPhotos(chatId: Id): ViewerItem[] {
  const out: ViewerItem[] = [];
  for (const m of getState().messages[chatId] || [])
    if (!m.deletedAt) for (const a of attachmentsOf(m)) if (a.kind === 'image') out.push({ att: a, messageId: m.id });
  return out;
}

export function Attachments({ msg }: { msg: MessageOut }) {
  const atts = attachmentsOf(msg);
  const [viewing, setViewing] = useState<string | null>(null);
  if (!atts.length) return null;
  const visual = atts.filter((a) => a.kind === 'image' || a.kind === 'video');
  const sound = atts.filter((a) => a.kind === 'voice' || a.kind === 'audio');
  const files = atts.filter((a) => a.kind === 'file');
  const single = visual.length === 1;
  return (
    <div class="attachments">
      {visual.length > 0 && (
        <div class={`media-grid ${single ? 'is-single' : `n-${Math.min(visual.length, 4)}`}`}>
          {visual.map((a) =>
            a.kind === 'image' ? (
              <button
                key={a.id}
                type="button"
                class="media-tile"
                style={single ? boxOf(a) : undefined}
                aria-label={`${tm('openPhoto')}: ${a.name}`}
                data-attachment-id={a.id}
                onClick={() => setViewing(a.id)}
              >
                <BlurImage att={a} alt={a.name} />
              </button>
            ) : (
              <VideoTile key={a.id} att={a} style={single ? boxOf(a) : undefined} />
            ),
          )}
        </div>
      )}
      {sound.map((a) => (
        <VoicePlayer key={a.id} att={a} />
      ))}
      {files.map((a) => (
        <FileCard key={a.id} att={a} />
      ))}
      {viewing && <LazyViewer items={chatPhotos(msg.chatId)} startId={viewing} onClose={() => setViewing(null)} />}
    </div>
  );
}

function VideoTile({ att, style }: { att: AttachmentOut; style?: { width: number; height: number } }) {
  return (
    <span class="media-tile is-video" style={style} data-attachment-id={att.id}>
      <BlurHash hash={att.blurhash} />
      <video
        src={att.url}
        poster={att.previewUrl || att.thumbnailUrl || undefined}
        controls
        playsInline
        preload="none"
        aria-label={`${tm('video')}: ${att.name}`}
      />
      {att.durationMs ? <span class="media-badge">{formatDuration(att.durationMs)}</span> : null}
    </span>
  );
}
