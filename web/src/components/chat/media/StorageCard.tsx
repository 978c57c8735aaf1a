/** Admin: the storage the family's files use, overall and per member (`GET /admin/storage`). */
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../../../api';
import { errorText } from '../../../i18n';
import { formatSize, tm } from '../../../media/i18n';
import type { StorageOut } from '../../../media/types';
import { Avatar, Card } from '../../../ui';

export function StorageCard() {
  const [data, setData] = useState<StorageOut | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void api<StorageOut>('GET', '/admin/storage')
      .then(setData)
      .catch((e: ApiError) => setError(errorText(e.code)));
  }, []);
  const members = (data?.members || []).slice().sort((a, b) => b.bytes - a.bytes);
  const top = Math.max(1, ...members.map((m) => m.bytes));
  return (
    <Card id="storage" title={tm('storage')}>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {data && (
        <>
          <p class="storage-total">
            {tm('storageTotal', { size: formatSize(data.totalBytes) })} · {tm('storageFiles', { n: data.fileCount })}
          </p>
          {!members.length && <p class="muted">{tm('noStorage')}</p>}
          <ul class="people" role="list" aria-label={tm('storage')}>
            {members.map((m) => (
              <li key={m.userId} class="storage-row" data-user-id={m.userId}>
                <Avatar id={m.userId} name={m.displayName || m.username} size="sm" />
                <span class="person-name">
                  {m.displayName || m.username}
                  <small class="muted">
                    {formatSize(m.bytes)} · {tm('storageFiles', { n: m.files })}
                  </small>
                  <span class="storage-bar" aria-hidden="true">
                    <span style={{ width: `${(m.bytes / top) * 100}%` }} />
                  </span>
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </Card>
  );
}
