/** The composer: drafts per chat, typing notices, Enter sends, the inline editor. */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../../api';
import { ClientEvent } from '../../api/generated/events';
import { editMessage, send } from '../../chats';
import { errorText, t } from '../../i18n';
import { emitQuiet } from '../../socket';
import { toast } from '../../store';
import type { Id, MessageOut } from '../../types';
import { Icon, IconButton } from '../../ui';
import { AttachButton, AttachTray, useAttachDraft } from './media/AttachButton';
import { captionOf } from './media/Attachments';
import { tm } from '../../media/i18n';
import { sendWithFiles } from '../../media/upload';
import { VoiceRecorder } from './media/VoiceRecorder';
import { useMentions } from './rich/MentionSuggest';
import { ReplyBar } from './rich/ReplyBar';

const drafts = new Map<Id, string>();

export function Composer({
  chatId,
  onSent,
  editing,
  replyTo,
  onReplyDone,
  onEditDone,
  onEditLast,
}: {
  chatId: Id;
  /** A new message went into the outbox: the view follows it to the bottom. */
  onSent: () => void;
  editing: MessageOut | null;
  /** The message being answered (rich/useRichChat). */
  replyTo: MessageOut | null;
  onReplyDone: () => void;
  onEditDone: () => void;
  onEditLast: () => void;
}) {
  const [text, setText] = useState(drafts.get(chatId) || '');
  const [saving, setSaving] = useState(false);
  const lastTyping = useRef(0);
  const ref = useRef<HTMLTextAreaElement>(null);
  const editingId = useRef<Id | null>(null);
  const files = useAttachDraft(chatId);
  const mentions = useMentions(chatId, text, ref, (v) => {
    setText(v);
    if (!editing) drafts.set(chatId, v);
  });
  useEffect(() => {
    if (replyTo) ref.current?.focus();
  }, [replyTo?.id]);

  useEffect(() => {
    // Focus the composer on desktop when a chat opens.
    if (window.matchMedia('(min-width: 840px)').matches) ref.current?.focus();
    return () => stopTyping();
  }, [chatId]);

  // Editing puts the message's text in the composer; the draft comes back afterwards.
  // A layout effect: it runs with the render that names the box "Edit message", so what is
  // typed there next is never overwritten by a late effect (a busy page can delay plain
  // effects past the first keystrokes, and Enter then saved the unchanged text: nothing).
  useLayoutEffect(() => {
    if (editing) {
      stopTyping();
      editingId.current = editing.id;
      // A message with files: its caption is what is edited (content is a fallback text).
      const current = captionOf(editing);
      setText(current);
      const el = ref.current;
      if (el) {
        el.value = current;
        el.focus();
        el.setSelectionRange(el.value.length, el.value.length);
      }
    } else if (editingId.current) {
      editingId.current = null;
      setText(drafts.get(chatId) || '');
      ref.current?.focus();
    }
  }, [editing?.id]);

  const stopTyping = () => {
    if (lastTyping.current) {
      emitQuiet(ClientEvent.TYPING, { chatId, isTyping: false });
      lastTyping.current = 0;
    }
  };

  const saveEdit = async (msg: MessageOut) => {
    const content = text.trim();
    if (!content || saving) return;
    if (content === captionOf(msg)) {
      onEditDone();
      return;
    }
    setSaving(true);
    try {
      await editMessage(msg, content);
      onEditDone();
    } catch (e) {
      toast(errorText((e as ApiError).code));
    } finally {
      setSaving(false);
    }
  };

  const submit = () => {
    if (editing) {
      void saveEdit(editing);
      return;
    }
    const content = text.trim();
    if (files.files.length) {
      void sendWithFiles(chatId, content, files.files, replyTo?.id);
      files.clear();
    } else if (!content) return;
    else send(chatId, content, undefined, replyTo?.id);
    onReplyDone();
    setText('');
    drafts.delete(chatId);
    stopTyping();
    onSent();
    ref.current?.focus();
  };

  return (
    <form
      class={`composer ${editing ? 'is-editing' : ''}`}
      {...(editing ? {} : files.dropTarget)}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {mentions.element}
      {replyTo && !editing && <ReplyBar msg={replyTo} onCancel={onReplyDone} />}
      {editing && (
        <div class="edit-bar">
          <Icon name="edit" />
          <span class="edit-bar-text">
            <span class="edit-bar-title">{t('editMessage')}</span>
            <span class="edit-bar-quote">{editing.content}</span>
          </span>
          <IconButton icon="close" label={t('cancelEdit')} onClick={onEditDone} />
        </div>
      )}
      {!editing && files.files.length > 0 && <AttachTray files={files.files} onRemove={files.remove} />}
      <div class="composer-row">
        {!editing && <AttachButton onFiles={files.add} />}
        <textarea
          ref={ref}
          rows={1}
          name="message"
          class="composer-input"
          placeholder={files.files.length ? tm('captionPlaceholder') : t('messagePlaceholder')}
          aria-label={editing ? t('editMessage') : t('messagePlaceholder')}
          maxLength={4000}
          value={text}
          enterkeyhint={editing ? 'done' : 'send'}
          onInput={(e) => {
            const v = e.currentTarget.value;
            setText(v);
            if (editing) return; // an edit is not a new message: no draft, no typing
            drafts.set(chatId, v);
            const now = Date.now();
            if (v.trim() && now - lastTyping.current > 3000) {
              emitQuiet(ClientEvent.TYPING, { chatId, isTyping: true });
              lastTyping.current = now;
            } else if (!v.trim()) stopTyping();
          }}
          onKeyDown={(e) => {
            if (mentions.onKey(e)) return;
            if (e.key === 'Escape' && replyTo && !editing) {
              e.preventDefault();
              onReplyDone();
            } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              submit();
            } else if (e.key === 'Escape' && editing) {
              e.preventDefault(); // cancels the edit, does not leave the chat
              onEditDone();
            } else if (e.key === 'ArrowUp' && !editing && !text && !e.isComposing) {
              e.preventDefault();
              onEditLast();
            }
          }}
          onBlur={stopTyping}
          onPaste={editing ? undefined : files.onPaste}
        />
        {!editing && !text.trim() && !files.files.length ? (
          <VoiceRecorder chatId={chatId} onSent={onSent} />
        ) : (
          <button
            class="send-btn"
            type="submit"
            aria-label={editing ? t('save') : t('send')}
            title={editing ? t('save') : t('send')}
            disabled={(!text.trim() && !files.files.length) || saving}
          >
            <Icon name={editing ? 'check' : 'send'} />
          </button>
        )}
      </div>
    </form>
  );
}
