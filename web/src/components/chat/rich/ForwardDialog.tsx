/** Choose the chats to forward messages to. */
import { useState } from 'preact/hooks';
import type { ApiError } from '../../../api';
import { sortedChats } from '../../../chats';
import { errorText, t } from '../../../i18n';
import { tr } from '../../../i18n-rich';
import { forwardMessages } from '../../../rich';
import { getState, toast, useStore } from '../../../store';
import type { Id } from '../../../types';
import { Dialog } from '../../../ui';
import { chatTitle } from '../../ChatList';

/** ``onClose(true)`` after forwarding. The messages go in the order of the chat. */
function inChatOrder(ids: Id[]): Id[] {
  const place = new Map<Id, number>();
  for (const list of Object.values(getState().messages)) for (const m of list) if (ids.includes(m.id)) place.set(m.id, m.seq);
  return [...ids].sort((a, b) => (place.get(a) ?? 0) - (place.get(b) ?? 0));
}

export function ForwardDialog({ messageIds, onClose }: { messageIds: Id[]; onClose: (sent?: boolean) => void }) {
  const chats = useStore((s) => s.chats);
  const me = useStore((s) => s.me)!;
  const users = useStore((s) => s.users);
  const [chosen, setChosen] = useState<Id[]>([]);
  const [busy, setBusy] = useState(false);
  const go = async () => {
    setBusy(true);
    try {
      await forwardMessages(inChatOrder(messageIds), chosen);
      toast(tr('forwardDone'));
      onClose(true);
    } catch (e) {
      toast(errorText((e as ApiError).code));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={tr('forwardTo')}
      onClose={() => onClose()}
      actions={
        <>
          <button type="button" class="btn btn-text" onClick={() => onClose()}>
            {t('cancel')}
          </button>
          <button type="button" class="btn btn-filled" disabled={!chosen.length || busy} onClick={() => void go()}>
            {tr('forwardSend')}
          </button>
        </>
      }
    >
      <ul class="forward-list">
        {sortedChats(chats).map((c) => (
          <li key={c.id}>
            <label class="forward-item">
              <input
                type="checkbox"
                checked={chosen.includes(c.id)}
                onChange={(e) =>
                  setChosen((now) => (e.currentTarget.checked ? [...now, c.id] : now.filter((id) => id !== c.id)))
                }
              />
              <span>{chatTitle(c, { me, users })}</span>
            </label>
          </li>
        ))}
      </ul>
    </Dialog>
  );
}
