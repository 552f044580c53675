// A text input whose edit is written back on commit (change: Enter or leaving the field), and
// whose text being typed survives re-renders. A plain controlled input would not: Preact sets
// the DOM value back to the `value` prop whenever they differ, so any render between a
// keystroke and the commit (the object's description arriving, run progress) would wipe what
// the user typed.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';

type Props = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'onInput'> & {
  /** The committed value's text (from the scenario). */
  value: string;
  /** Called with the input's text when the user commits it. */
  onCommit: (text: string) => void;
};

export function DraftInput({ value, onCommit, onBlur, ...rest }: Props) {
  const [draft, setDraft] = useState<string>();
  return (
    <input
      type="text"
      {...rest}
      value={draft ?? value}
      onInput={(e) => setDraft((e.currentTarget as HTMLInputElement).value)}
      onChange={(e) => {
        const text = (e.currentTarget as HTMLInputElement).value;
        setDraft(undefined);
        onCommit(text);
      }}
      onBlur={(e) => {
        setDraft(undefined);
        onBlur?.(e as JSX.TargetedFocusEvent<HTMLInputElement>);
      }}
    />
  );
}
