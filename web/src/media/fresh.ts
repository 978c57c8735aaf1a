/**
 * Signed media URLs expire (docs/media.md, about 10 minutes): a message kept in the cache
 * or open for long has stale ones. A failed load asks for fresh URLs once per attachment
 * (`GET /attachments/:id`); the answer is shared by everything that shows it.
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import type { AttachmentOut } from './types';

const renewed = new Map<string, Promise<AttachmentOut | null>>();

export function freshAttachment(id: string): Promise<AttachmentOut | null> {
  let p = renewed.get(id);
  if (!p) {
    p = api<AttachmentOut>('GET', `/attachments/${id}`).catch(() => null);
    renewed.set(id, p);
    // Fresh ones expire too: ask again after a while.
    setTimeout(() => renewed.delete(id), 5 * 60_000);
  }
  return p;
}

/** The attachment with URLs renewed after a load error (once per error burst). */
export function useFreshAttachment(att: AttachmentOut): [AttachmentOut, () => void] {
  const [fresh, setFresh] = useState<AttachmentOut | null>(null);
  const current = fresh && fresh.id === att.id ? fresh : att;
  const renew = () => {
    if (fresh && fresh.id === att.id) return; // renewed already: it is really gone
    void freshAttachment(att.id).then((a) => a && setFresh(a));
  };
  return [current, renew];
}
