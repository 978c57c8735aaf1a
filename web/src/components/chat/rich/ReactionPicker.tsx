/** The quick reactions at the top of the message menu, and a field for any other emoji. */
import { useState } from 'preact/hooks';
import type { ApiError } from '../../../api';
import { errorText } from '../../../i18n';
import { tr } from '../../../i18n-rich';
import { QUICK_REACTIONS, toggleReaction } from '../../../rich';
import { toast } from '../../../store';
import type { MessageOut } from '../../../types';

/** One emoji: a single grapheme that is a pictograph (the server checks it exactly). */
export function isOneEmoji(value: string): boolean {
  const v = value.trim();
  if (!v || !/\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(v)) return false;
  const segments = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(v)];
  return segments.length === 1;
}

export function ReactionPicker({ msg, onDone }: { msg: MessageOut; onDone: () => void }) {
  const [other, setOther] = useState<string | null>(null);
  const react = (emoji: string) => {
    onDone();
    void toggleReaction(msg, emoji).catch((e: ApiError) => toast(errorText(e.code)));
  };
  return (
    <div class="reaction-picker" role="group" aria-label={tr('react')}>
      {QUICK_REACTIONS.map((e) => (
        <button key={e} type="button" class="reaction-pick" aria-label={tr('reactWith', { emoji: e })} onClick={() => react(e)}>
          {e}
        </button>
      ))}
      {other === null ? (
        <button type="button" class="reaction-pick reaction-more" aria-label={tr('otherEmoji')} onClick={() => setOther('')}>
          +
        </button>
      ) : (
        <form
          class="reaction-other"
          onSubmit={(e) => {
            e.preventDefault();
            if (isOneEmoji(other)) react(other.trim());
          }}
        >
          <input
            class="reaction-other-input"
            aria-label={tr('otherEmoji')}
            placeholder={tr('otherEmojiHint')}
            value={other}
            maxLength={32}
            // eslint-disable-next-line jsx-a11y/no-autofocus
            autoFocus
            onInput={(e) => setOther(e.currentTarget.value)}
            onKeyDown={(e) => e.stopPropagation()}
          />
        </form>
      )}
    </div>
  );
}
