/**
 * What every form shares: `useAction` (busy while a request runs, the error it ended
 * with, cleared when tried again) and the labelled field, its hint and the error line.
 */
import type { ComponentChildren } from 'preact';
import { useId, useState } from 'preact/hooks';
import type { ApiError } from '../api';
import { errorText, t } from '../i18n';

export interface Action {
  busy: boolean;
  /** The last attempt's error (translated), or a message set with `setError`. */
  error: string | null;
  setError: (text: string | null) => void;
  /** Runs `fn` (again): clears the error, busy meanwhile, a failure becomes `error`. */
  run: (fn: () => Promise<unknown>) => Promise<void>;
}

export function useAction({
  initialError = null,
  serverMessage = false,
  fallback,
}: {
  initialError?: string | null;
  /** For a code the interface has no text for, show the server's message. */
  serverMessage?: boolean;
  /** For a code the interface has no text for, show this instead. */
  fallback?: string;
} = {}): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(initialError);
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      const err = e as ApiError;
      setError(errorText(err.code, serverMessage ? err.message : fallback));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

/** A form's error line (announced), or nothing. */
export function FormError({ error }: { error: string | null }) {
  return error ? (
    <p class="form-error" role="alert">
      {error}
    </p>
  ) : null;
}

/** A labelled control (the child) with an optional hint under it. */
export function Field({
  label,
  hint,
  hintId,
  grow,
  children,
}: {
  label: string;
  hint?: string;
  /** The hint's id, for the control's `aria-describedby`. */
  hintId?: string;
  grow?: boolean;
  children: ComponentChildren;
}) {
  return (
    <label class={grow ? 'field grow' : 'field'}>
      <span>{label}</span>
      {children}
      {hint && <small id={hintId}>{hint}</small>}
    </label>
  );
}

/** The input's own attributes that the forms use. */
interface InputProps {
  name?: string;
  type?: 'text' | 'password' | 'number';
  autocomplete?: string;
  autocapitalize?: 'none' | 'off' | 'on' | 'sentences' | 'words' | 'characters';
  spellcheck?: boolean;
  required?: boolean;
  minLength?: number;
  maxLength?: number;
  min?: number;
  max?: number;
  pattern?: string;
  autoFocus?: boolean;
}

/** A labelled input (text, password, number...): `onValue` gets what was typed. */
export function TextField({
  label,
  hint,
  grow,
  value,
  onValue,
  ...input
}: InputProps & {
  label: string;
  hint?: string;
  grow?: boolean;
  value: string | number;
  onValue: (value: string) => void;
}) {
  const hintId = `${useId()}-hint`;
  // Preact types `<input>` per `type`; these attributes suit every type the forms use.
  const attrs: Record<string, unknown> = input;
  return (
    <Field label={label} hint={hint} hintId={hintId} grow={grow}>
      <input
        {...attrs}
        aria-describedby={hint ? hintId : undefined}
        value={value}
        onInput={(e) => onValue(e.currentTarget.value)}
      />
    </Field>
  );
}

/**
 * A password: the member's current one, or a new one (at least 6 characters, with that
 * rule as its hint unless `hint` is null).
 */
export function PasswordField({
  isNew,
  hint,
  ...field
}: {
  label: string;
  hint?: string | null;
  name?: string;
  isNew?: boolean;
  value: string;
  onValue: (value: string) => void;
}) {
  return (
    <TextField
      {...field}
      hint={hint === undefined && isNew ? t('passwordHint') : (hint ?? undefined)}
      type="password"
      autocomplete={isNew ? 'new-password' : 'current-password'}
      minLength={isNew ? 6 : undefined}
      required
    />
  );
}
