/** The bar under the chat header: the latest pin; a tap shows it and moves to the next. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ApiError } from '../../../api';
import { errorText } from '../../../i18n';
import { tr } from '../../../i18n-rich';
import { loadPins, revealMessage, setPinned } from '../../../rich';
import { toast, useStore } from '../../../store';
import type { ChatOut } from '../../../types';
import { IconButton } from '../../../ui';

export function canPin(chat: ChatOut, isAdmin: boolean): boolean {
  return chat.type !== 'family' || isAdmin;
}

export function PinBar({ chat, isAdmin }: { chat: ChatOut; isAdmin: boolean }) {
  const stored = useStore((s) => s.pins[chat.id]);
  const loaded = useStore((s) => s.messages[chat.id]);
  // A pinned message deleted meanwhile (messageUpdated) leaves the bar.
  const pins = useMemo(() => {
    const gone = new Set((loaded || []).filter((m) => m.deletedAt).map((m) => m.id));
    return stored?.filter((p) => !p.deletedAt && !gone.has(p.id));
  }, [stored, loaded]);
  const [index, setIndex] = useState(0);
  useEffect(() => {
    setIndex(0);
    void loadPins(chat.id).catch(() => undefined);
  }, [chat.id]);
  useEffect(() => setIndex(0), [pins?.[0]?.id]);
  if (!pins?.length) return null;
  const i = Math.min(index, pins.length - 1);
  const shown = pins[i];
  return (
    <div class="pin-bar" data-pin-id={shown.id}>
      <button
        type="button"
        class="pin-bar-main"
        aria-label={tr('pinnedOf', { i: i + 1, n: pins.length })}
        onClick={() => {
          void revealMessage(chat.id, shown.id).then((found) => found || toast(tr('originalNotLoaded')));
          setIndex((i + 1) % pins.length);
        }}
      >
        <span class="pin-bar-marks" aria-hidden="true">
          {pins.map((p, k) => (
            <span key={p.id} class={`pin-mark ${k === i ? 'on' : ''}`} />
          ))}
        </span>
        <span class="pin-bar-text">
          <span class="pin-bar-title">{pins.length > 1 ? tr('pinnedOf', { i: i + 1, n: pins.length }) : tr('pinned')}</span>
          <span class="pin-bar-preview" dir="auto">
            {shown.content}
          </span>
        </span>
      </button>
      {canPin(chat, isAdmin) && (
        <IconButton
          icon="close"
          label={tr('unpin')}
          onClick={() => void setPinned(shown, false).catch((e: ApiError) => toast(errorText(e.code)))}
        />
      )}
    </div>
  );
}
