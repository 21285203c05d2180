import { describe, expect, it } from '@jest/globals';
import { resolveOnce, ResolvedMarks } from './resolved.js';

describe('ResolvedMarks', () => {
  it('knows what it marked, and nothing of the same shape', () => {
    const marks = new ResolvedMarks<{ a: number }>();
    const resolved = marks.mark({ a: 1 });
    expect(marks.has(resolved)).toBe(true);
    expect(marks.has({ a: 1 })).toBe(false);
    expect(marks.has(undefined)).toBe(false);
    expect(new ResolvedMarks<{ a: number }>().has(resolved)).toBe(false);
  });

  it('freezes what it marks', () => {
    const resolved = new ResolvedMarks<{ a: number }>().mark({ a: 1 });
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(() => {
      (resolved as { a: number }).a = 2;
    }).toThrow(TypeError);
  });
});

describe('resolveOnce', () => {
  it('runs the resolver once per object, and derives resolved objects without running it', () => {
    let runs = 0;
    const resolve = resolveOnce((input: { n?: number }) => {
      runs += 1;
      return { n: input.n ?? 1, tag: 'x' };
    });
    const r = resolve({});
    expect(resolve(r)).toBe(r);
    const d = resolve.derive(r, { tag: 'y' });
    expect(d).toEqual({ n: 1, tag: 'y' });
    expect(resolve(d)).toBe(d);
    expect(Object.isFrozen(d)).toBe(true);
    expect(runs).toBe(1);
  });
});
