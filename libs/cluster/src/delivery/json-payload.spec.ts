import { describe, expect, it } from '@jest/globals';
import { runInNewContext } from 'node:vm';
import { stringifyPayload, UnserializablePayloadError } from './json-payload.js';
import { defaultPayloadCodec } from './payload-codec.js';

class Order {
  constructor(readonly id: number) {}
}
class Money {
  constructor(readonly cents: number) {}
  toJSON(): string {
    return `${this.cents / 100} EUR`;
  }
}

describe('stringifyPayload', () => {
  it('carries what JSON carries unchanged', () => {
    const value = {
      a: [1, 'x', null, true, { b: Object.create(null) as object }],
      when: new Date(0),
      price: new Money(250),
      bytes: Buffer.from([1, 2]),
      skipped: undefined,
    };
    expect(stringifyPayload(value)).toBe(JSON.stringify(value));
    expect(stringifyPayload([1, 2])).toBe('[1,2]');
    expect(stringifyPayload('s')).toBe('"s"');
    expect(stringifyPayload(undefined)).toBeUndefined();
    // Plain objects of another realm (a vm context, a jest sandbox) are plain too.
    expect(stringifyPayload(runInNewContext('({ x: [1, { y: 2 }] })'))).toBe('{"x":[1,{"y":2}]}');
  });

  it.each<[string, unknown, string, RegExp]>([
    ['a Map', new Map([['k', 1]]), 'payload', /is a Map/],
    ['a nested Set', { tags: new Set(['a']) }, 'payload.tags', /is a Set/],
    [
      'a class instance',
      { items: [1, new Order(7)] },
      'payload.items[1]',
      /class Order without toJSON/,
    ],
    ['a function', { f: () => 1 }, 'payload.f', /a function/],
    ['a symbol', { s: Symbol('x') }, 'payload.s', /a symbol/],
    ['a nested Uint8Array', { raw: new Uint8Array(2) }, 'payload.raw', /a Uint8Array/],
    ['an Error', { e: new Error('x') }, 'payload.e', /an? Error/],
  ])('refuses %s, naming where it is', (_what, value, path, message) => {
    let caught: unknown;
    try {
      stringifyPayload(value);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UnserializablePayloadError);
    expect((caught as UnserializablePayloadError).path).toBe(path);
    expect((caught as Error).message).toMatch(message);
  });

  it('is what the default codec uses for every non-byte value', () => {
    expect(() => defaultPayloadCodec.encode(new Map())).toThrow(UnserializablePayloadError);
    expect(defaultPayloadCodec.encode(new Uint8Array([7]))).toEqual(new Uint8Array([7]));
    expect(Buffer.from(defaultPayloadCodec.encode({ a: 1 })).toString()).toBe('{"a":1}');
  });
});
