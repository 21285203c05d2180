import { describe, expect, it } from '@jest/globals';
import { HandoffTopics } from './handoff-topics.js';

describe('HandoffTopics', () => {
  const join = (): boolean => true;

  it('charges each sender at most maxPerPeer unknown topics, known ones never', () => {
    const t = new HandoffTopics(2);
    expect(t.accept('a.1', 'm', false, join)).toBe(true);
    expect(t.accept('a.2', 'm', false, join)).toBe(true);
    expect(t.accept('a.3', 'm', false, join)).toBe(false);
    expect(t.refused).toBe(1);
    // Another sender has its own allowance; a known topic is not charged.
    expect(t.accept('a.3', 'n', false, join)).toBe(true);
    expect(t.accept('a.4', 'm', true, join)).toBe(true);
    expect(t.refused).toBe(1);
  });

  it('frees a place when the topic is left, and charges nothing the join refused', () => {
    const t = new HandoffTopics(1);
    expect(t.accept('a.1', 'm', false, () => false)).toBe(false);
    expect(t.refused).toBe(0);
    expect(t.accept('a.1', 'm', false, join)).toBe(true);
    expect(t.accept('a.2', 'm', false, join)).toBe(false);
    t.left('a.1');
    expect(t.accept('a.2', 'm', false, join)).toBe(true);
    t.left('unknown');
    expect(t.refused).toBe(1);
  });
});
