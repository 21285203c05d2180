/**
 * The keys of `plumtree chat` (the reference crate's terminal chat, with a typing mode so the
 * letters stay free for messages): a pure mapping from the mode and a key to what it does.
 *
 * Normal mode: Enter types a message; F takes the current user's node offline (SIGKILL) or
 * back online (restart on its port and store); L toggles 20 % loss on it (SWIM packets and
 * Plumtree frames); E reopens every tree with all peers eager, or back; R resets the metrics;
 * M shows or hides the metrics panel; Tab / Shift-Tab, PageDown / PageUp and 1-9, 0 switch user;
 * Q or Ctrl-C quits. Typing mode: text goes to the line, Enter sends, Esc cancels.
 */

/** What a key does. */
export type ChatAction =
  | { readonly type: 'none' }
  | { readonly type: 'quit' }
  | { readonly type: 'type' }
  | { readonly type: 'cancel' }
  | { readonly type: 'send' }
  | { readonly type: 'input'; readonly text: string }
  | { readonly type: 'backspace' }
  | { readonly type: 'user'; readonly index: number }
  | { readonly type: 'user-step'; readonly by: 1 | -1 }
  | { readonly type: 'offline-toggle' }
  | { readonly type: 'loss-toggle' }
  | { readonly type: 'eager-toggle' }
  | { readonly type: 'reset-metrics' }
  | { readonly type: 'metrics-toggle' };

/** The key flags the mapping reads (ink's `Key`). */
export interface KeyFlags {
  readonly return?: boolean;
  readonly escape?: boolean;
  readonly tab?: boolean;
  readonly shift?: boolean;
  readonly ctrl?: boolean;
  readonly meta?: boolean;
  readonly backspace?: boolean;
  readonly delete?: boolean;
  readonly pageUp?: boolean;
  readonly pageDown?: boolean;
}

/** The actions a letter key raises (they carry nothing but their type). */
type LetterAction =
  'quit' | 'offline-toggle' | 'loss-toggle' | 'eager-toggle' | 'reset-metrics' | 'metrics-toggle';

/** The loss the L key toggles, as the crate's: 20 %. */
export const LOSS_KEY_RATE = 0.2;

/** What `input` with `key` does in `mode`. */
export function keyAction(mode: 'normal' | 'typing', input: string, key: KeyFlags): ChatAction {
  if (key.ctrl && input === 'c') return { type: 'quit' };
  if (key.tab) return { type: 'user-step', by: key.shift ? -1 : 1 };
  if (key.pageDown) return { type: 'user-step', by: 1 };
  if (key.pageUp) return { type: 'user-step', by: -1 };
  if (mode === 'typing') {
    if (key.return) return { type: 'send' };
    if (key.escape) return { type: 'cancel' };
    if (key.backspace || key.delete) return { type: 'backspace' };
    if (key.ctrl || key.meta) return { type: 'none' };
    // Printable text only (a paste arrives as one chunk).
    const text = [...input].filter((c) => !isControl(c)).join('');
    return text === '' ? { type: 'none' } : { type: 'input', text };
  }
  if (key.return) return { type: 'type' };
  if (key.ctrl || key.meta || input.length !== 1) return { type: 'none' };
  if (/^[0-9]$/.test(input)) return { type: 'user', index: input === '0' ? 9 : Number(input) - 1 };
  return { type: NORMAL_KEYS[input.toLowerCase()] ?? 'none' };
}

/** The letter keys of normal mode (case-insensitive): the action each one raises. */
const NORMAL_KEYS: Readonly<Record<string, LetterAction>> = {
  q: 'quit',
  f: 'offline-toggle',
  l: 'loss-toggle',
  e: 'eager-toggle',
  r: 'reset-metrics',
  m: 'metrics-toggle',
};

/** The key a control character stands for when it arrives inside a chunk of input. */
const CONTROL_KEYS: Record<string, KeyFlags> = {
  '\r': { return: true },
  '\n': { return: true },
  '\t': { tab: true },
  '\u007f': { backspace: true },
  '\b': { backspace: true },
  '\u001b': { escape: true },
};

/**
 * The actions of one chunk of input, from `mode` on. A terminal hands over what was typed or
 * pasted since the last read as one chunk (tmux `send-keys`, a fast typist, a paste): in it,
 * control characters are keys of their own (`hello\r` is text then Enter), and in normal mode
 * every character is a key (`3f` switches to user 3, then takes it offline).
 */
export function actionsFor(mode: 'normal' | 'typing', input: string, key: KeyFlags): ChatAction[] {
  const flagged = Object.values(key).some((v) => v === true);
  const controls = [...input].some((c) => CONTROL_KEYS[c] !== undefined);
  // One key, or text typed into the line: nothing to split.
  if (flagged || input.length <= 1 || (mode === 'typing' && !controls)) {
    return [keyAction(mode, input, key)];
  }
  const actions: ChatAction[] = [];
  let m = mode;
  for (const part of splitControls(input)) {
    const control = CONTROL_KEYS[part];
    const pieces: [string, KeyFlags][] =
      control !== undefined
        ? [[part, control]]
        : m === 'typing'
          ? [[part, {}]]
          : [...part].map((c): [string, KeyFlags] => [c, {}]);
    for (const [text, flags] of pieces) {
      const a = keyAction(m, text, flags);
      actions.push(a);
      if (a.type === 'type') m = 'typing';
      if (a.type === 'send' || a.type === 'cancel') m = 'normal';
    }
  }
  return actions;
}

/** Whether `c` is a C0 control character or DEL. */
function isControl(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

/** `input` cut into runs of text and single control keys (`ab\rc` -> `ab`, `\r`, `c`). */
function splitControls(input: string): string[] {
  const parts: string[] = [];
  let run = '';
  for (const c of input) {
    if (CONTROL_KEYS[c] === undefined) {
      run += c;
      continue;
    }
    if (run !== '') parts.push(run);
    parts.push(c);
    run = '';
  }
  if (run !== '') parts.push(run);
  return parts;
}
