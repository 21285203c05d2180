import { describe, expect, it } from '@jest/globals';
import { isPattern, topicMatches, validatePattern, validateTopic } from './topic-pattern.js';

describe('validateTopic', () => {
  it.each([
    'orders',
    'orders.eu',
    'a.b.c.d',
    'ü.日本.😀',
    'x'.repeat(255),
    '€'.repeat(85),
    'a-b_c:d/e',
  ])('accepts %j', (t) => {
    expect(validateTopic(t)).toBeNull();
    expect(validatePattern(t)).toBeNull();
  });

  it.each([
    ['', /empty/],
    ['.', /empty segment \(leading/],
    ['.orders', /leading/],
    ['orders.', /trailing/],
    ['orders..eu', /doubled/],
    ['x'.repeat(256), /256 bytes/],
    ['€'.repeat(86), /258 bytes/],
    ['a.\ud800', /lone UTF-16 surrogate/],
    ['orders.*', /wildcards are only for subscribing/],
    ['orders.#', /wildcards are only for subscribing/],
    ['ord*', /whole segment/],
    ['orders.e#u', /whole segment/],
  ])('rejects %j', (t, reason) => {
    expect(validateTopic(t)).toMatch(reason);
  });

  it('rejects a non-string with a reason instead of throwing', () => {
    expect(validateTopic(42 as unknown as string)).toMatch(/must be a string/);
  });
});

describe('validatePattern', () => {
  it.each(['*', '#', 'orders.*', 'orders.#', '*.eu', '*.*.#', 'a.*.c', 'orders'])(
    'accepts %j',
    (p) => {
      expect(validatePattern(p)).toBeNull();
    },
  );

  it.each([
    ['#.orders', /'#' may only be the last segment/],
    ['a.#.b', /'#' may only be the last segment/],
    ['orders.**', /whole segment/],
    ['orders.*x', /whole segment/],
    ['orders.##', /whole segment/],
    ['orders.*#', /whole segment/],
    ['orders..*', /doubled/],
    ['', /empty/],
  ])('rejects %j', (p, reason) => {
    expect(validatePattern(p)).toMatch(reason);
  });
});

describe('isPattern', () => {
  it.each([
    ['orders', false],
    ['orders.*', true],
    ['orders.#', true],
    ['#', true],
    ['ord*', false],
    ['#.a', false],
  ])('%j -> %s', (s, expected) => {
    expect(isPattern(s)).toBe(expected);
  });
});

describe('topicMatches', () => {
  it.each([
    ['orders', 'orders'],
    ['orders.eu', 'orders.eu'],
    ['orders.*', 'orders.eu'],
    ['*.eu', 'orders.eu'],
    ['*', 'orders'],
    ['*.*', 'a.b'],
    ['a.*.c', 'a.b.c'],
    ['orders.#', 'orders.eu'],
    ['orders.#', 'orders.eu.x'],
    ['orders.#', 'orders.eu.x.y.z'],
    ['#', 'orders'],
    ['#', 'a.b.c'],
    ['*.#', 'a.b'],
    ['a.*.#', 'a.b.c'],
    ['ü.*', 'ü.日本'],
  ])('%j matches %j', (p, t) => {
    expect(topicMatches(p, t)).toBe(true);
  });

  it.each([
    ['orders', 'orders.eu'],
    ['orders.eu', 'orders'],
    ['orders.eu', 'orders.e'],
    ['orders.e', 'orders.eu'],
    ['orders.*', 'orders'],
    ['orders.*', 'orders.eu.x'],
    ['orders.*', 'ordersx.eu'],
    ['orders.*', 'order.eu'],
    ['*.eu', 'orders.us'],
    ['*.eu', 'eu'],
    ['*', 'a.b'],
    ['*.*', 'a'],
    ['*.*', 'a.b.c'],
    ['a.*.c', 'a.b.d'],
    ['a.*.c', 'a.c'],
    ['orders.#', 'orders'],
    ['orders.#', 'ordersx.eu'],
    ['orders.#', 'order'],
    ['orders.#', 'orders.'],
    ['*.#', 'a'],
    ['a.*.#', 'a.b'],
    // An invalid pattern matches nothing, not even itself.
    ['#.a', '#.a'],
    ['a..b', 'a..b'],
    ['ord*', 'orders'],
  ])('%j does not match %j', (p, t) => {
    expect(topicMatches(p, t)).toBe(false);
  });

  it('stays correct when more patterns are used than the cache holds', () => {
    for (let i = 0; i < 5000; i++) {
      expect(topicMatches(`p${i}.*`, `p${i}.x`)).toBe(true);
      expect(topicMatches(`p${i}.#`, `p${i + 1}.x`)).toBe(false);
    }
    expect(topicMatches('p0.*', 'p0.y')).toBe(true);
  });

  it('agrees with a regular-expression reference on generated cases', () => {
    const segs = ['a', 'b', 'ab', '*', '#'];
    const topics: string[] = [];
    const build = (prefix: string[], depth: number): void => {
      if (prefix.length > 0) topics.push(prefix.join('.'));
      if (depth === 0) return;
      for (const s of ['a', 'b', 'ab']) build([...prefix, s], depth - 1);
    };
    build([], 4);
    const patterns: string[] = [];
    const buildP = (prefix: string[], depth: number): void => {
      if (prefix.length > 0) patterns.push(prefix.join('.'));
      if (depth === 0) return;
      for (const s of segs) buildP([...prefix, s], depth - 1);
    };
    buildP([], 3);
    const reference = (p: string, t: string): boolean => {
      if (validatePattern(p) !== null) return false;
      const re = p
        .split('.')
        .map((s) => (s === '*' ? '[^.]+' : s === '#' ? '[^.]+(?:\\.[^.]+)*' : s))
        .join('\\.');
      return new RegExp(`^${re}$`).test(t);
    };
    let positives = 0;
    const mismatches: string[] = [];
    for (const p of patterns) {
      for (const t of topics) {
        const expected = reference(p, t);
        if (expected) positives++;
        if (topicMatches(p, t) !== expected) mismatches.push(`${p} ~ ${t}: expected ${expected}`);
      }
    }
    expect(mismatches).toEqual([]);
    // The table is not all negatives.
    expect(positives).toBeGreaterThan(1000);
  });
});
