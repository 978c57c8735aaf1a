/**
 * Attaching in the composer: the paperclip opens a small menu (photo or video from the
 * gallery, the camera, any file; several at once), and the picked files wait in a tray
 * above the text until sent (the text is their caption).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatSize, tm } from '../../../media/i18n';
import { kindOf, type NewFile } from '../../../media/upload';
import type { Id } from '../../../types';
import { IconButton } from '../../../ui';
import { MediaIcon, type MediaIconName } from './icons';

const MAX_FILES = 10;
const drafts = new Map<Id, NewFile[]>();

/** The files picked for a chat's next message (kept per chat while the app runs). */
export function useAttachDraft(chatId: Id) {
  const [files, setFiles] = useState<NewFile[]>(() => drafts.get(chatId) || []);
  useEffect(() => setFiles(drafts.get(chatId) || []), [chatId]);
  const update = (next: NewFile[]) => {
    drafts.set(chatId, next);
    setFiles(next);
  };
  const add = (picked: File[]) => {
    const next = [...files, ...picked.map((f) => ({ blob: f, name: f.name || 'file', kind: kindOf(f.type) }))];
    update(next.slice(0, MAX_FILES));
  };
  const carried = (dt: DataTransfer | null) => [...(dt?.files || [])];
  return {
    files,
    add,
    remove: (i: number) => update(files.filter((_, j) => j !== i)),
    clear: () => update([]),
    /** Files pasted into the text box (a screenshot, a copied picture) are attached. */
    onPaste: (e: ClipboardEvent) => {
      const f = carried(e.clipboardData);
      if (!f.length) return;
      e.preventDefault();
      add(f);
    },
    /** Files dropped on the composer (desktop) are attached. */
    dropTarget: {
      onDragOver: (e: DragEvent) => {
        if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
      },
      onDrop: (e: DragEvent) => {
        const f = carried(e.dataTransfer);
        if (!f.length) return;
        e.preventDefault();
        add(f);
      },
    },
  };
}

const SOURCES: { key: 'attachGallery' | 'attachCamera' | 'attachFile'; icon: MediaIconName; accept?: string; capture?: boolean }[] = [
  { key: 'attachGallery', icon: 'image', accept: 'image/*,video/*' },
  { key: 'attachCamera', icon: 'camera', accept: 'image/*', capture: true },
  { key: 'attachFile', icon: 'file' },
];

export function AttachButton({ onFiles }: { onFiles: (files: File[]) => void }) {
  const [open, setOpen] = useState(false);
  const menu = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector<HTMLElement>('label')?.focus();
    const close = (e: Event) => {
      if (!menu.current?.parentElement?.contains(e.target as Node)) setOpen(false);
    };
    const esc = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        setOpen(false);
      }
    };
    document.addEventListener('pointerdown', close);
    document.addEventListener('keydown', esc);
    return () => {
      document.removeEventListener('pointerdown', close);
      document.removeEventListener('keydown', esc);
    };
  }, [open]);

  return (
    <div class="attach">
      <button
        type="button"
        class="icon-btn attach-btn"
        aria-label={tm('attach')}
        title={tm('attach')}
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        <MediaIcon name="attach" />
      </button>
      {open && (
        <div class="attach-menu" ref={menu}>
          {SOURCES.map((s) => (
            <label key={s.key} class="attach-item" tabIndex={0} onKeyDown={(e) => e.key === 'Enter' && (e.currentTarget as HTMLElement).click()}>
              <MediaIcon name={s.icon} />
              <span>{tm(s.key)}</span>
              <input
                type="file"
                class="visually-hidden"
                accept={s.accept}
                capture={s.capture ? 'environment' : undefined}
                multiple={!s.capture}
                aria-label={tm(s.key)}
                onChange={(e) => {
                  const list = [...(e.currentTarget.files || [])];
                  e.currentTarget.value = '';
                  setOpen(false);
                  if (list.length) onFiles(list);
                }}
              />
            </label>
          ))}
        </div>
      )}
    </div>
  );
}

function TrayItem({ file, onRemove }: { file: NewFile; onRemove: () => void }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (file.kind !== 'image') return;
    const u = URL.createObjectURL(file.blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [file.blob]);
  return (
    <li class="tray-item">
      {url ? (
        <img src={url} alt={file.name} />
      ) : (
        <span class="tray-file">
          <MediaIcon name={file.kind === 'video' ? 'movie' : 'file'} />
          <span class="file-name">{file.name}</span>
          <span class="file-meta">{formatSize(file.blob.size)}</span>
        </span>
      )}
      <IconButton icon="close" class="tray-remove" label={tm('removeAttachment', { name: file.name })} onClick={onRemove} />
    </li>
  );
}

export function AttachTray({ files, onRemove }: { files: NewFile[]; onRemove: (i: number) => void }) {
  return (
    <ul class="attach-tray" aria-label={tm('attachments')}>
      {files.map((f, i) => (
        <TrayItem key={`${i}-${f.name}`} file={f} onRemove={() => onRemove(i)} />
      ))}
    </ul>
  );
}
