/**
 * Message search: a query field (results as you type), an optional "from" filter, and the
 * results, newest first, each with its sender, chat, date and the matching words marked.
 * Opened from the chat list (every chat) or a chat's header (that chat only).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../api';
import { errorText, t } from '../i18n';
import { openMessage, pieces, searchMessages } from '../search';
import { toast, useStore } from '../store';
import type { ChatOut, Id, SearchHitOut } from '../types';
import { Avatar, IconButton, shortWhen } from '../ui';

/** Wait this long after the last key before searching. */
const TYPING_PAUSE_MS = 250;

/** `chatId`: search that chat only; else every chat, each hit naming its chat (`titleOf`). */
export function SearchPanel({
  chatId,
  titleOf,
  onClose,
}: {
  chatId?: Id;
  titleOf?: (chat: ChatOut) => string;
  onClose: () => void;
}) {
  const me = useStore((s) => s.me);
  const users = useStore((s) => s.users);
  const chats = useStore((s) => s.chats);
  const [q, setQ] = useState('');
  const [senderId, setSenderId] = useState('');
  const [has, setHas] = useState<'' | 'photo' | 'file' | 'voice'>('');
  const [hits, setHits] = useState<SearchHitOut[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(0);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => input.current?.focus(), []);

  const run = (before: string | null) => {
    const id = ++latest.current;
    setBusy(true);
    searchMessages(q, { chatId, senderId: senderId || undefined, has: has || undefined, before })
      .then((page) => {
        if (id !== latest.current) return;
        setHits((old) => (before && old ? [...old, ...page.hits] : page.hits));
        setNext(page.nextBefore);
        setError(null);
      })
      .catch((e: ApiError) => id === latest.current && setError(errorText(e.code)))
      .finally(() => id === latest.current && setBusy(false));
  };

  useEffect(() => {
    if (!/[\p{L}\p{N}]/u.test(q)) {
      latest.current++;
      setHits(null);
      setNext(null);
      setBusy(false);
      setError(null);
      return;
    }
    const timer = setTimeout(() => run(null), TYPING_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [q, senderId, has, chatId]);

  const people = [me, ...Object.values(users)].filter((u) => !!u && u.isActive);
  const label = chatId ? t('searchInChat') : t('searchMessages');
  return (
    <section class={`search-panel ${chatId ? 'in-chat' : ''}`} aria-label={label}>
      <div class="search-bar">
        <input
          ref={input}
          class="search-input"
          type="search"
          enterkeyhint="search"
          value={q}
          placeholder={label}
          aria-label={label}
          maxLength={200}
          onInput={(e) => setQ(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.preventDefault();
              onClose();
            }
          }}
        />
        <select
          class="search-sender"
          aria-label={t('searchFrom')}
          value={senderId}
          onChange={(e) => setSenderId(e.currentTarget.value)}
        >
          <option value="">{t('searchFromAnyone')}</option>
          {people.map((u) => (
            <option key={u!.id} value={u!.id}>
              {u!.id === me?.id ? t('you') : u!.displayName || u!.username}
            </option>
          ))}
        </select>
        <select
          class="search-sender search-has"
          aria-label={t('searchWith')}
          value={has}
          onChange={(e) => setHas(e.currentTarget.value as typeof has)}
        >
          <option value="">{t('searchWithAnything')}</option>
          <option value="photo">{t('searchWithPhotos')}</option>
          <option value="file">{t('searchWithFiles')}</option>
          <option value="voice">{t('searchWithVoice')}</option>
        </select>
        <IconButton icon="close" label={t('closeSearch')} onClick={onClose} />
      </div>
      <div class="search-results" role="region" aria-live="polite" aria-busy={busy ? 'true' : 'false'}>
        {error && <p class="form-error">{error}</p>}
        {hits === null && !error && <p class="empty-hint">{t('searchHint')}</p>}
        {hits !== null && !hits.length && !busy && <p class="empty-hint">{t('searchNothing')}</p>}
        <ul class="search-list" role="list">
          {(hits || []).map((hit) => {
            const m = hit.message;
            const chat = chats[m.chatId];
            const where = chat && titleOf ? titleOf(chat) : m.chat.name;
            const who = m.senderId === me?.id ? t('you') : users[m.senderId]?.displayName || m.sender.displayName;
            return (
              <li key={m.id}>
                <button
                  type="button"
                  class="search-hit"
                  data-message-id={m.id}
                  onClick={() =>
                    void openMessage(m)
                      .then(() => chatId && onClose())
                      .catch((e: ApiError) => toast(errorText(e.code)))
                  }
                >
                  <Avatar id={m.senderId} name={who} size="sm" />
                  <span class="search-hit-main">
                    <span class="search-hit-top">
                      <span class="search-hit-who">{chatId ? who : `${who} · ${where}`}</span>
                      <time class="chat-item-time">{shortWhen(m.createdAt)}</time>
                    </span>
                    <span class="search-hit-text">
                      {pieces(m.content, hit.highlights).map((p, i) =>
                        p.hit ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>,
                      )}
                    </span>
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
        {next && (
          <button type="button" class="btn btn-text search-more" disabled={busy} onClick={() => run(next)}>
            {t('searchMore')}
          </button>
        )}
      </div>
    </section>
  );
}
