/** Lines between messages: the day label and the unread line. */
import { t } from '../../i18n';
import { dayLabel } from '../../ui';

export function DayLine({ at }: { at: string }) {
  return (
    <div class="day-sep" role="separator">
      <span>{dayLabel(at)}</span>
    </div>
  );
}

/** Before the first unread message when the chat was opened; stays until I send something. */
export function UnreadLine() {
  return (
    <div class="unread-sep" role="separator">
      <span>{t('unreadMessages')}</span>
    </div>
  );
}
