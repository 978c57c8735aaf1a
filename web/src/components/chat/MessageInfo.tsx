/** Who read my message, and who got it. */
import { t } from '../../i18n';
import { useStore } from '../../store';
import type { ChatOut, Id, MessageOut } from '../../types';
import { Avatar, Dialog, Icon } from '../../ui';

export function MessageInfo({ chat, msg, onClose }: { chat: ChatOut; msg: MessageOut; onClose: () => void }) {
  const users = useStore((s) => s.users);
  const me = useStore((s) => s.me)!;
  const name = (id: Id) =>
    users[id]?.displayName || chat.participants.find((p) => p.id === id)?.displayName || '?';
  const others = (chat.readStates || []).filter((r) => r.userId !== me.id);
  const readBy = others.filter((r) => r.lastReadSeq >= msg.seq);
  const deliveredTo = others.filter((r) => r.lastReadSeq < msg.seq && r.lastDeliveredSeq >= msg.seq);
  return (
    <Dialog title={t('messageInfo')} onClose={onClose}>
      <blockquote class="quote">{msg.content.slice(0, 300)}</blockquote>
      <h3 class="section-label">{t('readBy')}</h3>
      <ul class="people compact" aria-label={t('readBy')}>
        {readBy.length ? (
          readBy.map((r) => (
            <li key={r.userId} class="person-row">
              <Avatar id={r.userId} name={name(r.userId)} size="sm" />
              <span class="person-name">{name(r.userId)}</span>
              <Icon name="doneAll" class="status status-read" />
            </li>
          ))
        ) : (
          <li class="muted">{t('nobodyYet')}</li>
        )}
      </ul>
      {deliveredTo.length > 0 && (
        <>
          <h3 class="section-label">{t('deliveredTo')}</h3>
          <ul class="people compact" aria-label={t('deliveredTo')}>
            {deliveredTo.map((r) => (
              <li key={r.userId} class="person-row">
                <Avatar id={r.userId} name={name(r.userId)} size="sm" />
                <span class="person-name">{name(r.userId)}</span>
                <Icon name="doneAll" class="status status-delivered" />
              </li>
            ))}
          </ul>
        </>
      )}
    </Dialog>
  );
}
