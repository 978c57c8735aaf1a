/** The reactions under a bubble: one chip per emoji with its count; a tap toggles mine. */
import type { ApiError } from '../../../api';
import { errorText } from '../../../i18n';
import { tr } from '../../../i18n-rich';
import { toggleReaction } from '../../../rich';
import { toast, useStore } from '../../../store';
import type { Id, MessageOut, UserOut } from '../../../types';

export function namesOf(ids: Id[], users: Record<Id, UserOut>): string {
  return ids.map((id) => users[id]?.displayName || users[id]?.username || '…').join(', ');
}

export function ReactionBar({ msg }: { msg: MessageOut }) {
  const me = useStore((s) => s.me);
  const users = useStore((s) => s.users);
  const reactions = msg.reactions || [];
  if (!reactions.length || msg.deletedAt) return null;
  return (
    <div class="reaction-bar">
      {reactions.map((r) => {
        const mine = !!me && r.userIds.includes(me.id);
        const who = tr('reactedBy', { emoji: r.emoji, names: namesOf(r.userIds, users) });
        return (
          <button
            key={r.emoji}
            type="button"
            class={`reaction-chip ${mine ? 'mine' : ''}`}
            aria-pressed={mine}
            aria-label={who}
            title={who}
            data-emoji={r.emoji}
            onClick={(e) => {
              e.stopPropagation();
              void toggleReaction(msg, r.emoji).catch((err: ApiError) => toast(errorText(err.code)));
            }}
          >
            <span class="reaction-emoji">{r.emoji}</span>
            <span class="reaction-count">{r.count}</span>
          </button>
        );
      })}
    </div>
  );
}
