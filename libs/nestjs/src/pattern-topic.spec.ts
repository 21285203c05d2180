import { describe, expect, it } from '@jest/globals';
import { topicMatches, validatePattern, validateTopic } from '@plumtree/cluster';
import { transformPatternToRoute } from '@nestjs/microservices/utils/transform-pattern.utils.js';
import { topicOfRoute } from './pattern-topic.js';

const topicOf = (pattern: unknown): string =>
  topicOfRoute(transformPatternToRoute(pattern as string));

describe('topicOfRoute', () => {
  it('keeps string topics and patterns as they are, wildcards included', () => {
    for (const s of ['orders.created', 'math.*', 'billing.#', 'notification', '42']) {
      expect(topicOf(s)).toBe(s);
    }
    expect(topicOf(42)).toBe('42');
    // Nest leaves other values alone; both sides turn them into the same string.
    expect(topicOf(true)).toBe('true');
  });

  it.each<[string, unknown]>([
    ['an object pattern', { cmd: 'sum' }],
    ['an object pattern with a * value', { cmd: '*' }],
    ['an object pattern whose value looks like a pattern', { a: '.*.' }],
    ['a nested object pattern', { svc: { name: 'a.b', v: 1 } }],
    ['a string that is no valid topic', 'a.#.b'],
    ['an empty-segment string', 'a..b'],
    ['an empty string', ''],
    ['a string with %', '100%'],
    ['a lone surrogate', 'x\ud800y'],
  ])('makes %s a literal topic that only the same route matches', (_what, pattern) => {
    const t = topicOf(pattern);
    expect(validateTopic(t)).toBeNull();
    expect(validatePattern(t)).toBeNull();
    expect(t.startsWith('%')).toBe(true);
    expect(t.includes('.')).toBe(false);
    expect(topicOf(pattern)).toBe(t);
    // Only a catch-all pattern matches it, never a concrete other topic.
    expect(topicMatches(t, t)).toBe(true);
  });

  it('keeps object patterns apart from the same keys in another order only as Nest does', () => {
    // Nest sorts keys: the same object in any key order is one route.
    expect(topicOf({ a: 1, b: 2 })).toBe(topicOf({ b: 2, a: 1 }));
    expect(topicOf({ cmd: 'sum' })).not.toBe(topicOf({ cmd: 'Sum' }));
    expect(topicOf({ cmd: 'sum' })).toBe('%{"cmd":"sum"}');
  });

  it('is injective: escaped and plain topics never meet', () => {
    const routes = ['a%2Eb', 'a.b', 'a..b', '%a', '%25a', '{"x":1}', 'x\ud800', 'x%uD800'];
    const topics = routes.map((r) => topicOfRoute(r));
    expect(new Set(topics).size).toBe(routes.length);
  });

  it('hashes the tail of a long route to stay within 255 bytes', () => {
    const long = { cmd: 'x'.repeat(400) };
    const other = { cmd: `${'x'.repeat(399)}y` };
    const t = topicOf(long);
    expect(Buffer.byteLength(t)).toBeLessThanOrEqual(255);
    expect(validateTopic(t)).toBeNull();
    expect(t).toContain('%!');
    expect(topicOf(other)).not.toBe(t);
    const wide = topicOf({ cmd: 'ü'.repeat(300) });
    expect(Buffer.byteLength(wide)).toBeLessThanOrEqual(255);
    expect(validateTopic(wide)).toBeNull();
  });
});
