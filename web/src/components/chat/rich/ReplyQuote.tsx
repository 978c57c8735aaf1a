/** Above a bubble's text: "Forwarded from …" and the quote of the message it answers. */
import type { ReplyToOut } from '../../../api/generated/rest';
import { tr } from '../../../i18n-rich';
import { revealMessage } from '../../../rich';
import { toast } from '../../../store';
import type { MessageOut } from '../../../types';
import { hashIndex } from '../../../ui';

export function ReplyQuote({ chatId, reply }: { chatId: string; reply: ReplyToOut }) {
  return (
    <button
      type="button"
      class={`reply-quote snc-${hashIndex(reply.senderId, 8)}`}
      onClick={(e) => {
        e.stopPropagation();
        void revealMessage(chatId, reply.id).then((found) => found || toast(tr('originalNotLoaded')));
      }}
    >
      <span class="reply-quote-name">{reply.senderName}</span>
      <span class={`reply-quote-text ${reply.deleted ? 'deleted' : ''}`} dir="auto">
        {reply.deleted ? tr('deletedOriginal') : reply.preview}
      </span>
    </button>
  );
}

/** The parts above a message's text (none for most messages). */
export function RichTop({ msg }: { msg: MessageOut }) {
  if (!msg.forwardedFrom && !msg.replyTo) return null;
  return (
    <>
      {msg.forwardedFrom && (
        <div class="forwarded-from">{tr('forwardedFrom', { name: msg.forwardedFrom.senderName })}</div>
      )}
      {msg.replyTo && <ReplyQuote chatId={msg.chatId} reply={msg.replyTo} />}
    </>
  );
}
