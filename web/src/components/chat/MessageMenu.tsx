/** The message menu (Edit, Copy text, Message info, Delete). */
import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { t } from '../../i18n';
import { Icon, type IconName } from '../../ui';

export interface MenuItem {
  label: string;
  icon: IconName;
  danger?: boolean;
  run: () => void;
}

/**
 * The message menu: a small modal list next to the message (top layer, focus kept inside,
 * Escape or a click outside closes it and gives the focus back). Arrow keys move between items.
 */
export function MessageMenu({
  anchor,
  trigger,
  mine,
  items,
  header,
  onClose,
}: {
  anchor: HTMLElement;
  trigger: HTMLElement | null;
  mine: boolean;
  items: MenuItem[];
  /** Above the items (the quick reactions). */
  header?: ComponentChildren;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useLayoutEffect(() => {
    const d = ref.current!;
    if (!d.open) d.showModal();
    const r = anchor.getBoundingClientRect();
    const w = d.offsetWidth;
    const h = d.offsetHeight;
    let top = r.bottom + 4;
    if (top + h > window.innerHeight - 8) top = Math.max(8, r.top - h - 4);
    let left = mine ? r.right - w : r.left;
    left = Math.min(Math.max(8, left), window.innerWidth - w - 8);
    // CSSOM custom properties: allowed by the strict CSP (no style attribute is written).
    d.style.setProperty('--menu-top', `${Math.round(top)}px`);
    d.style.setProperty('--menu-left', `${Math.round(left)}px`);
    d.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    return () => {
      if (d.open) d.close();
      trigger?.focus();
    };
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    const all = [...ref.current!.querySelectorAll<HTMLElement>('[role="menuitem"]')];
    const i = all.indexOf(document.activeElement as HTMLElement);
    let next = -1;
    if (e.key === 'ArrowDown') next = (i + 1) % all.length;
    else if (e.key === 'ArrowUp') next = (i - 1 + all.length) % all.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = all.length - 1;
    else if (e.key === 'Tab') {
      e.preventDefault();
      onClose();
      return;
    }
    if (next >= 0) {
      e.preventDefault();
      all[next].focus();
    }
  };
  return (
    <dialog
      ref={ref}
      class="msg-menu"
      aria-label={t('messageActions')}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) onClose();
      }}
      onKeyDown={onKeyDown}
    >
      {header}
      <div role="menu" aria-label={t('messageActions')}>
        {items.map((it) => (
          <button
            key={it.label}
            type="button"
            role="menuitem"
            class={`menu-item ${it.danger ? 'danger' : ''}`}
            onClick={() => {
              onClose();
              it.run();
            }}
          >
            <Icon name={it.icon} />
            {it.label}
          </button>
        ))}
      </div>
    </dialog>
  );
}
