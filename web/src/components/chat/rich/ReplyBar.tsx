/** Above the composer while replying: whom and what is answered. */
import { tr } from '../../../i18n-rich';
import { useStore } from '../../../store';
import type { MessageOut } from '../../../types';
import { Icon, IconButton } from '../../../ui';

export function ReplyBar({ msg, onCancel }: { msg: MessageOut; onCancel: () => void }) {
  const users = useStore((s) => s.users);
  const name = users[msg.senderId]?.displayName || msg.sender.displayName || msg.sender.username;
  return (
    <div class="edit-bar reply-bar">
      <Icon name="reply" />
      <span class="edit-bar-text">
        <span class="edit-bar-title">{tr('replyingTo', { name })}</span>
        <span class="edit-bar-quote">{msg.content}</span>
      </span>
      <IconButton icon="close" label={tr('cancelReply')} onClick={onCancel} />
    </div>
  );
}
