import { describe, expect, it } from '@jest/globals';
import { actionsFor, keyAction } from './chat-keys.js';

describe('keyAction', () => {
  it('normal mode: the crate keys, in either case, and users by number', () => {
    expect(keyAction('normal', 'f', {})).toEqual({ type: 'offline-toggle' });
    expect(keyAction('normal', 'F', { shift: true })).toEqual({ type: 'offline-toggle' });
    expect(keyAction('normal', 'L', {})).toEqual({ type: 'loss-toggle' });
    expect(keyAction('normal', 'e', {})).toEqual({ type: 'eager-toggle' });
    expect(keyAction('normal', 'r', {})).toEqual({ type: 'reset-metrics' });
    expect(keyAction('normal', 'm', {})).toEqual({ type: 'metrics-toggle' });
    expect(keyAction('normal', 'q', {})).toEqual({ type: 'quit' });
    expect(keyAction('normal', '1', {})).toEqual({ type: 'user', index: 0 });
    expect(keyAction('normal', '0', {})).toEqual({ type: 'user', index: 9 });
    expect(keyAction('normal', '', { tab: true })).toEqual({ type: 'user-step', by: 1 });
    expect(keyAction('normal', '', { tab: true, shift: true })).toEqual({
      type: 'user-step',
      by: -1,
    });
    expect(keyAction('normal', '', { pageUp: true })).toEqual({ type: 'user-step', by: -1 });
    expect(keyAction('normal', '\r', { return: true })).toEqual({ type: 'type' });
    expect(keyAction('normal', 'x', {})).toEqual({ type: 'none' });
  });

  it('typing mode: letters are text; Enter sends, Esc cancels, Backspace deletes', () => {
    expect(keyAction('typing', 'f', {})).toEqual({ type: 'input', text: 'f' });
    expect(keyAction('typing', '1', {})).toEqual({ type: 'input', text: '1' });
    expect(keyAction('typing', '\r', { return: true })).toEqual({ type: 'send' });
    expect(keyAction('typing', '', { escape: true })).toEqual({ type: 'cancel' });
    expect(keyAction('typing', '', { backspace: true })).toEqual({ type: 'backspace' });
    expect(keyAction('typing', 'a\u0007b', {})).toEqual({ type: 'input', text: 'ab' });
  });

  it('Ctrl-C quits in both modes', () => {
    expect(keyAction('typing', 'c', { ctrl: true })).toEqual({ type: 'quit' });
    expect(keyAction('normal', 'c', { ctrl: true })).toEqual({ type: 'quit' });
  });
});

describe('actionsFor: one chunk of input', () => {
  it('text then Enter in one chunk is typed, then sent', () => {
    expect(actionsFor('typing', 'hello\r', {})).toEqual([
      { type: 'input', text: 'hello' },
      { type: 'send' },
    ]);
  });

  it('in normal mode every character is a key, and the mode follows Enter', () => {
    expect(actionsFor('normal', '3f\rhi\rL', {})).toEqual([
      { type: 'user', index: 2 },
      { type: 'offline-toggle' },
      { type: 'type' },
      { type: 'input', text: 'hi' },
      { type: 'send' },
      { type: 'loss-toggle' },
    ]);
  });

  it('a single key or plain text is passed as it is', () => {
    expect(actionsFor('normal', 'f', {})).toEqual([{ type: 'offline-toggle' }]);
    expect(actionsFor('typing', 'two words', {})).toEqual([{ type: 'input', text: 'two words' }]);
    expect(actionsFor('typing', '\r', { return: true })).toEqual([{ type: 'send' }]);
    expect(actionsFor('typing', 'ab\u007f\u001b', {})).toEqual([
      { type: 'input', text: 'ab' },
      { type: 'backspace' },
      { type: 'cancel' },
    ]);
  });
});
