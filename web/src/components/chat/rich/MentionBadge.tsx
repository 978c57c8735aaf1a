/** "@" in the chat list: unread messages that mention me. */
import { tr } from '../../../i18n-rich';

export function MentionBadge({ n }: { n: number }) {
  return (
    <span class="badge mention-badge" aria-label={tr('mentionsBadge', { n })} title={tr('mentionsBadge', { n })}>
      @
    </span>
  );
}
