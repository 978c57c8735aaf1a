/**
 * What rich messaging adds to an open chat (ADR 14): the menu's reactions and items
 * (Reply, Forward, Pin, Who reacted), the pin bar, the reply being written, the dialogs.
 * ChatView only places these.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { ApiError } from '../../../api';
import { errorText } from '../../../i18n';
import { tr } from '../../../i18n-rich';
import { setPinned } from '../../../rich';
import { toast } from '../../../store';
import type { ChatOut, Id, MessageOut, UserOut } from '../../../types';
import { Icon, IconButton } from '../../../ui';
import type { MenuItem } from '../MessageMenu';
import { ForwardDialog } from './ForwardDialog';
import { canPin, PinBar } from './PinBar';
import { ReactionPicker } from './ReactionPicker';
import { WhoReacted } from './WhoReacted';
import './rich.css';

export function useRichChat(chat: ChatOut | undefined, me: UserOut) {
  const [replyTo, setReplyTo] = useState<MessageOut | null>(null);
  const [forward, setForward] = useState<Id[] | null>(null);
  const [who, setWho] = useState<MessageOut | null>(null);
  const [chosen, setChosen] = useState<Id[] | null>(null);
  const chatId = chat?.id;
  useEffect(() => {
    setReplyTo(null);
    setChosen(null);
  }, [chatId]);
  const toggle = useCallback(
    (m: MessageOut) => setChosen((now) => (now?.includes(m.id) ? now.filter((id) => id !== m.id) : [...(now || []), m.id])),
    [],
  );
  const selection = useMemo(() => (chosen ? { ids: chosen, toggle } : null), [chosen, toggle]);

  const menuItems = (m: MessageOut): MenuItem[] => {
    const items: MenuItem[] = [{ label: tr('reply'), icon: 'reply', run: () => setReplyTo(m) }];
    items.push({ label: tr('forward'), icon: 'forward', run: () => setForward([m.id]) });
    items.push({ label: tr('select'), icon: 'check', run: () => setChosen([m.id]) });
    if (chat && canPin(chat, me.isAdmin)) {
      const pinned = !!m.pinnedAt;
      items.push({
        label: pinned ? tr('unpin') : tr('pin'),
        icon: 'pin',
        run: () => void setPinned(m, !pinned).catch((e: ApiError) => toast(errorText(e.code))),
      });
    }
    if (m.reactions?.length) items.push({ label: tr('whoReacted'), icon: 'info', run: () => setWho(m) });
    return items;
  };

  const menuHeader = (m: MessageOut, close: () => void) => <ReactionPicker msg={m} onDone={close} />;

  const pinBar = chat ? <PinBar chat={chat} isAdmin={me.isAdmin} /> : null;

  const selectionBar = chosen ? (
    <div class="selection-bar" role="toolbar" aria-label={tr('selected', { n: chosen.length })}>
      <IconButton icon="close" label={tr('cancelSelection')} onClick={() => setChosen(null)} />
      <span class="selection-count">{tr('selected', { n: chosen.length })}</span>
      <button type="button" class="btn btn-filled" disabled={!chosen.length} onClick={() => setForward(chosen)}>
        <Icon name="forward" /> {tr('forward')}
      </button>
    </div>
  ) : null;

  const dialogs = (
    <>
      {forward && (
        <ForwardDialog
          messageIds={forward}
          onClose={(sent) => {
            setForward(null);
            if (sent) setChosen(null);
          }}
        />
      )}
      {who && <WhoReacted msg={who} onClose={() => setWho(null)} />}
    </>
  );
  return { replyTo, setReplyTo, menuItems, menuHeader, pinBar, dialogs, selection, selectionBar };
}
