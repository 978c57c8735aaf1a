/** Typing `@` in the composer suggests the chat's members; a pick inserts `@username `. */
import type { RefObject } from 'preact';
import { useState } from 'preact/hooks';
import { tr } from '../../../i18n-rich';
import { useStore } from '../../../store';
import type { Id, UserOut } from '../../../types';
import { Avatar } from '../../../ui';

const TOKEN = /(^|\s)@([^\s@]*)$/u;
const MAX = 6;

interface Mentions {
  element: preact.JSX.Element | null;
  /** Handles the composer's key first; true when it was a suggestion key. */
  onKey: (e: KeyboardEvent) => boolean;
}

export function useMentions(
  chatId: Id,
  text: string,
  input: RefObject<HTMLTextAreaElement | null>,
  setText: (v: string) => void,
): Mentions {
  const chat = useStore((s) => s.chats[chatId]);
  const me = useStore((s) => s.me);
  const users = useStore((s) => s.users);
  const [active, setActive] = useState(0);
  const [closedAt, setClosedAt] = useState<string | null>(null);
  const caret = input.current?.selectionStart ?? text.length;
  const match = TOKEN.exec(text.slice(0, caret));
  const prefix = match ? match[2].toLocaleLowerCase() : null;
  const candidates: UserOut[] =
    prefix === null || !chat || closedAt === text
      ? []
      : chat.participantIds
          .filter((id) => id !== me?.id)
          .map((id) => users[id])
          .filter((u): u is UserOut => !!u)
          .filter((u) => u.username.toLocaleLowerCase().startsWith(prefix) || u.displayName.toLocaleLowerCase().startsWith(prefix))
          .slice(0, MAX);

  const pick = (u: UserOut) => {
    const before = text.slice(0, caret).replace(TOKEN, (_all, space: string) => `${space}@${u.username} `);
    const next = before + text.slice(caret);
    setText(next);
    const el = input.current;
    if (el) {
      el.value = next;
      el.focus();
      el.setSelectionRange(before.length, before.length);
    }
  };

  const onKey = (e: KeyboardEvent): boolean => {
    if (!candidates.length) return false;
    const i = Math.min(active, candidates.length - 1);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const step = e.key === 'ArrowDown' ? 1 : candidates.length - 1;
      setActive((i + step) % candidates.length);
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      pick(candidates[i]);
    } else if (e.key === 'Escape') {
      setClosedAt(text);
    } else return false;
    e.preventDefault();
    return true;
  };

  const element = candidates.length ? (
    <ul class="mention-suggest" role="listbox" aria-label={tr('mentionSuggestions')}>
      {candidates.map((u, k) => (
        <li key={u.id} role="option" aria-selected={k === Math.min(active, candidates.length - 1)}>
          <button
            type="button"
            class="mention-option"
            onMouseDown={(e) => e.preventDefault()} // keep the composer's focus and caret
            onClick={() => pick(u)}
          >
            <Avatar id={u.id} name={u.displayName} size="sm" />
            <span class="mention-name">{u.displayName}</span>
            <span class="mention-username">@{u.username}</span>
          </button>
        </li>
      ))}
    </ul>
  ) : null;
  return { element, onKey };
}
