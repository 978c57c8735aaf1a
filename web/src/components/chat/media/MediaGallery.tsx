/**
 * Chat info → Media and files: what was shared in the chat, newest first, in pages
 * (`GET /chats/:id/media`): photos and videos as a grid (a photo opens the viewer), voice
 * messages with their player, files as cards.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../../../api';
import { errorText } from '../../../i18n';
import { tm } from '../../../media/i18n';
import type { ChatMediaItem, ChatMediaPage } from '../../../media/types';
import type { Id } from '../../../types';
import { Dialog } from '../../../ui';
import { BlurImage } from './Blur';
import { FileCard } from './FileCard';
import { LazyViewer } from './LazyViewer';
import { VoicePlayer } from './VoicePlayer';

const TABS = [
  { id: 'media', label: 'mediaTab', kinds: ['image', 'video'] },
  { id: 'files', label: 'filesTab', kinds: ['file', 'audio'] },
  { id: 'voice', label: 'voiceTab', kinds: ['voice'] },
] as const;

export function MediaGallery({ chatId, title, onClose }: { chatId: Id; title: string; onClose: () => void }) {
  const [tab, setTab] = useState<(typeof TABS)[number]['id']>('media');
  const [items, setItems] = useState<ChatMediaItem[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [viewing, setViewing] = useState<string | null>(null);

  const load = async (before: string | null, reset: boolean) => {
    setLoading(true);
    setError(null);
    const kinds = TABS.find((x) => x.id === tab)!.kinds.map((k) => `kind=${k}`).join('&');
    try {
      const page = await api<ChatMediaPage>(
        'GET',
        `/chats/${chatId}/media?${kinds}&limit=30${before ? `&before=${encodeURIComponent(before)}` : ''}`,
      );
      setItems((old) => (reset ? page.items : [...old, ...page.items]));
      setNext(page.nextBefore ?? null);
    } catch (e) {
      setError(errorText((e as ApiError).code));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    setItems([]);
    void load(null, true);
  }, [tab, chatId]);

  const photos = items.filter((i) => i.attachment.kind === 'image').map((i) => ({ att: i.attachment, messageId: i.messageId }));
  return (
    <Dialog title={`${tm('mediaAndFiles')} · ${title}`} onClose={onClose} wide>
      <div class="media-tabs" role="tablist" aria-label={tm('mediaAndFiles')}>
        {TABS.map((x) => (
          <button key={x.id} type="button" role="tab" aria-selected={tab === x.id} onClick={() => setTab(x.id)}>
            {tm(x.label)}
          </button>
        ))}
      </div>
      <div role="tabpanel" aria-busy={loading} aria-label={tm(TABS.find((x) => x.id === tab)!.label)}>
        {!loading && !error && !items.length && <p class="media-empty">{tm('noMedia')}</p>}
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        {tab === 'media' ? (
          <div class="media-list-grid">
            {items.map(({ attachment: a }) =>
              a.kind === 'image' ? (
                <button
                  key={a.id}
                  type="button"
                  class="media-tile"
                  aria-label={`${tm('openPhoto')}: ${a.name}`}
                  onClick={() => setViewing(a.id)}
                >
                  <BlurImage att={a} alt={a.name} />
                </button>
              ) : (
                <a key={a.id} class="media-tile" href={a.url} target="_blank" rel="noopener noreferrer" aria-label={`${tm('video')}: ${a.name}`}>
                  <BlurImage att={a} alt={a.name} />
                </a>
              ),
            )}
          </div>
        ) : (
          <div class="media-list-files">
            {items.map(({ attachment: a }) =>
              a.kind === 'file' ? <FileCard key={a.id} att={a} /> : <VoicePlayer key={a.id} att={a} />,
            )}
          </div>
        )}
        {next && (
          <div class="row-end">
            <button type="button" class="btn btn-text" disabled={loading} onClick={() => void load(next, false)}>
              {tm('loadMore')}
            </button>
          </div>
        )}
      </div>
      {viewing && <LazyViewer items={photos} startId={viewing} onClose={() => setViewing(null)} />}
    </Dialog>
  );
}
