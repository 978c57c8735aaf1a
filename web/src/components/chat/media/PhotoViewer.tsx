/**
 * The full-screen photo viewer (loaded on demand): the chat's photos one at a time, previous
 * / next by buttons, arrow keys or a swipe; zoom by pinching, double-tap, the wheel or the
 * buttons, and drag to pan while zoomed; download under the photo's name. A modal <dialog>:
 * Escape closes it and the focus goes back.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { freshAttachment } from '../../../media/fresh';
import { tm } from '../../../media/i18n';
import type { ViewerProps } from '../../../media/types';
import { t } from '../../../i18n';
import { IconButton } from '../../../ui';
import { BlurImage } from './Blur';
import { download } from './FileCard';
import { MediaIcon, type MediaIconName } from './icons';

const MAX_ZOOM = 5;

function ToolButton({ icon, label, onClick, disabled }: { icon: MediaIconName; label: string; onClick: () => void; disabled?: boolean }) {
  return (
    <button type="button" class="icon-btn" aria-label={label} title={label} onClick={onClick} disabled={disabled}>
      <MediaIcon name={icon} />
    </button>
  );
}

export function PhotoViewer({ items, startId, onClose }: ViewerProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [index, setIndex] = useState(() => Math.max(0, items.findIndex((i) => i.att.id === startId)));
  const [zoom, setZoom] = useState(1);
  const [pan, setPan] = useState({ x: 0, y: 0 });
  const pointers = useRef(new Map<number, { x: number; y: number }>());
  const gesture = useRef<{ dist: number; zoom: number; x: number; y: number; pan: { x: number; y: number } } | null>(null);
  const item = items[index];

  useEffect(() => {
    const d = ref.current!;
    if (!d.open) d.showModal();
    return () => d.open && d.close();
  }, []);

  const go = (delta: number) => {
    const next = index + delta;
    if (next < 0 || next >= items.length) return;
    setIndex(next);
    setZoom(1);
    setPan({ x: 0, y: 0 });
  };

  const zoomTo = (z: number) => {
    const nz = Math.min(MAX_ZOOM, Math.max(1, z));
    setZoom(nz);
    if (nz === 1) setPan({ x: 0, y: 0 });
  };

  const onPointerDown = (e: PointerEvent) => {
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    pointers.current.set(e.pointerId, { x: e.clientX, y: e.clientY });
    const ps = [...pointers.current.values()];
    gesture.current = {
      dist: ps.length === 2 ? Math.hypot(ps[0].x - ps[1].x, ps[0].y - ps[1].y) : 0,
      zoom,
      x: e.clientX,
      y: e.clientY,
      pan,
    };
  };

  const onPointerMove = (e: PointerEvent) => {
    if (!pointers.current.has(e.pointerId) || !gesture.current) return;
    pointers.current.set(e.pointerId, { x: e.clientX, y: e.clientY });
    const ps = [...pointers.current.values()];
    const g = gesture.current;
    if (ps.length === 2 && g.dist) {
      zoomTo((g.zoom * Math.hypot(ps[0].x - ps[1].x, ps[0].y - ps[1].y)) / g.dist);
    } else if (ps.length === 1 && zoom > 1) {
      setPan({ x: g.pan.x + e.clientX - g.x, y: g.pan.y + e.clientY - g.y });
    }
  };

  const onPointerUp = (e: PointerEvent) => {
    const g = gesture.current;
    const wasSingle = pointers.current.size === 1;
    pointers.current.delete(e.pointerId);
    if (!pointers.current.size) gesture.current = null;
    // A horizontal swipe at normal size goes to the neighbour.
    if (g && wasSingle && zoom === 1) {
      const dx = e.clientX - g.x;
      if (Math.abs(dx) > 60 && Math.abs(dx) > Math.abs(e.clientY - g.y)) go(dx < 0 ? 1 : -1);
    }
  };

  const save = () => {
    void freshAttachment(item.att.id).then((a) => download(a?.url || item.att.url, item.att.name));
  };

  return (
    <dialog
      ref={ref}
      class="viewer"
      aria-label={tm('photoViewer', { i: index + 1, n: items.length })}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onKeyDown={(e) => {
        if (e.key === 'ArrowLeft') go(-1);
        else if (e.key === 'ArrowRight') go(1);
        else if (e.key === '+' || e.key === '=') zoomTo(zoom * 1.5);
        else if (e.key === '-') zoomTo(zoom / 1.5);
        else return;
        e.preventDefault();
      }}
    >
      <header class="viewer-bar">
        <IconButton icon="close" label={t('close')} onClick={onClose} />
        <span class="viewer-title" aria-live="polite">
          {tm('photoViewer', { i: index + 1, n: items.length })}
        </span>
        <ToolButton icon="zoomOut" label={tm('zoomOut')} onClick={() => zoomTo(zoom / 1.5)} disabled={zoom <= 1} />
        <ToolButton icon="zoomIn" label={tm('zoomIn')} onClick={() => zoomTo(zoom * 1.5)} disabled={zoom >= MAX_ZOOM} />
        <ToolButton icon="download" label={tm('downloadName', { name: item.att.name })} onClick={save} />
      </header>
      <div
        class="viewer-stage"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onDblClick={() => zoomTo(zoom > 1 ? 1 : 2.5)}
        onWheel={(e) => {
          e.preventDefault();
          zoomTo(zoom * (e.deltaY < 0 ? 1.2 : 1 / 1.2));
        }}
      >
        <div
          key={item.att.id}
          class="viewer-photo"
          style={{
            aspectRatio: item.att.width && item.att.height ? `${item.att.width} / ${item.att.height}` : undefined,
            transform: `translate(${pan.x}px, ${pan.y}px) scale(${zoom})`,
          }}
        >
          <BlurImage att={item.att} which="previewUrl" alt={item.att.name} />
        </div>
      </div>
      {index > 0 && (
        <span class="viewer-nav is-prev">
          <ToolButton icon="prev" label={tm('previous')} onClick={() => go(-1)} />
        </span>
      )}
      {index < items.length - 1 && (
        <span class="viewer-nav is-next">
          <ToolButton icon="next" label={tm('next')} onClick={() => go(1)} />
        </span>
      )}
    </dialog>
  );
}
