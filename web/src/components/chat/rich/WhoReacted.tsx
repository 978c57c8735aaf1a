/** Who put which reaction on a message. */
import { tr } from '../../../i18n-rich';
import { useStore } from '../../../store';
import type { MessageOut } from '../../../types';
import { Dialog } from '../../../ui';
import { namesOf } from './ReactionBar';

export function WhoReacted({ msg, onClose }: { msg: MessageOut; onClose: () => void }) {
  const users = useStore((s) => s.users);
  const current = useStore((s) => s.messages[msg.chatId]?.find((m) => m.id === msg.id)) || msg;
  return (
    <Dialog title={tr('whoReacted')} onClose={onClose}>
      <ul class="who-reacted">
        {(current.reactions || []).map((r) => (
          <li key={r.emoji}>
            <span class="reaction-emoji">{r.emoji}</span> {namesOf(r.userIds, users)}
          </li>
        ))}
      </ul>
    </Dialog>
  );
}
