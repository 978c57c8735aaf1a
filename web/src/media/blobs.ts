/**
 * The bytes of files waiting to be uploaded, kept in IndexedDB so that a reload (or a
 * closed tab) does not lose an upload: the outbox in localStorage names them by localId.
 */
const DB = 'ic-media';
const STORE = 'pending';

let dbp: Promise<IDBDatabase> | null = null;

function db(): Promise<IDBDatabase> {
  dbp ||= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return dbp;
}

async function run<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const d = await db();
  return new Promise((resolve, reject) => {
    const req = fn(d.transaction(STORE, mode).objectStore(STORE));
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

const memory = new Map<string, Blob>();

export async function putBlob(id: string, blob: Blob): Promise<void> {
  memory.set(id, blob);
  // Private windows may refuse IndexedDB: the upload still works while the page lives.
  await run('readwrite', (s) => s.put(blob, id)).catch(() => undefined);
}

export async function getBlob(id: string): Promise<Blob | null> {
  const m = memory.get(id);
  if (m) return m;
  const b = await run<Blob | undefined>('readonly', (s) => s.get(id)).catch(() => undefined);
  if (b) memory.set(id, b);
  return b ?? null;
}

/** The bytes already in memory (for previews without waiting on IndexedDB). */
export function blobNow(id: string): Blob | null {
  return memory.get(id) ?? null;
}

export async function dropBlob(id: string): Promise<void> {
  memory.delete(id);
  await run('readwrite', (s) => s.delete(id)).catch(() => undefined);
}
