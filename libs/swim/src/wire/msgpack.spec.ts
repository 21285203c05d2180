import { describe, expect, it } from '@jest/globals';
import { GO_EMPTY_BYTES, MsgpackReader, MsgpackWriter } from './msgpack.js';
import { decodeStruct, encodeStruct, Schemas } from './message-codec.js';
import type { Alive, PushPullHeader } from './messages.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const write = (f: (w: MsgpackWriter) => void): string => {
  const w = new MsgpackWriter(1);
  f(w);
  return hex(w.finish());
};

describe('MsgpackWriter: the forms go-msgpack (WriteExt false) emits', () => {
  it.each([
    [0, '00'],
    [127, '7f'],
    [128, 'cc80'],
    [255, 'ccff'],
    [256, 'cd0100'],
    [65535, 'cdffff'],
    [65536, 'ce00010000'],
    [4294967295, 'ceffffffff'],
    [4294967296, 'cf0000000100000000'],
    [Number.MAX_SAFE_INTEGER, 'cf001fffffffffffff'],
  ])('uint %d -> %s (smallest form)', (v, h) => {
    expect(write((w) => w.uint(v))).toBe(h);
  });

  it.each([
    [-1, 'ff'],
    [-32, 'e0'],
    [-33, 'd0df'],
    [-128, 'd080'],
    [-129, 'd1ff7f'],
    [-32768, 'd18000'],
    [-32769, 'd2ffff7fff'],
    [-2147483648, 'd280000000'],
    [-2147483649, 'd3ffffffff7fffffff'],
  ])('int %d -> %s', (v, h) => {
    expect(write((w) => w.int(v))).toBe(h);
  });

  it('writes strings and bytes as raw: fixraw below 32, then raw16 (0xda), never str8 (0xd9)', () => {
    expect(write((w) => w.str(''))).toBe('a0');
    expect(write((w) => w.str('x'.repeat(31)))).toBe('bf' + '78'.repeat(31));
    expect(write((w) => w.str('x'.repeat(32)))).toBe('da0020' + '78'.repeat(32));
    expect(write((w) => w.str('x'.repeat(255))).slice(0, 6)).toBe('da00ff');
    expect(write((w) => w.raw(new Uint8Array(65535))).slice(0, 6)).toBe('daffff');
    expect(write((w) => w.raw(new Uint8Array(65536))).slice(0, 10)).toBe('db00010000');
    expect(write((w) => w.raw(new Uint8Array([1, 2])))).toBe('a20102');
  });

  it('writes UTF-8 strings by byte length', () => {
    expect(write((w) => w.str('é'))).toBe('a2c3a9');
  });

  it('writes an empty byte slice as nil, and GO_EMPTY_BYTES as an empty raw', () => {
    expect(write((w) => w.raw(new Uint8Array(0)))).toBe('c0');
    expect(write((w) => w.raw(GO_EMPTY_BYTES))).toBe('a0');
  });

  it('writes map and array headers: fix below 16, then 16-bit, then 32-bit', () => {
    expect(write((w) => w.mapHeader(15))).toBe('8f');
    expect(write((w) => w.mapHeader(16))).toBe('de0010');
    expect(write((w) => w.mapHeader(65536))).toBe('df00010000');
    expect(write((w) => w.arrayHeader(3))).toBe('93');
    expect(write((w) => w.arrayHeader(70000))).toBe('dd00011170');
  });

  it('grows its buffer and can be reset', () => {
    const w = new MsgpackWriter(1);
    for (let i = 0; i < 1000; i++) w.uint(i);
    expect(w.length).toBeGreaterThan(1000);
    w.reset();
    w.bool(true);
    expect(hex(w.finish())).toBe('c3');
  });
});

describe('struct encoding', () => {
  it('keys a struct by Go field name in byte order, not declaration order', () => {
    const h: PushPullHeader = { Nodes: 2, UserStateLen: 300, Join: true };
    // Join < Nodes < UserStateLen
    expect(hex(encodeStruct(Schemas.pushPullHeader, h))).toBe(
      '83a44a6f696ec3a54e6f64657302ac5573657253746174654c656ecd012c',
    );
  });

  it('leaves out empty omitempty fields', () => {
    const b = encodeStruct(Schemas.ping, {
      SeqNo: 1,
      Node: 'a',
      SourceAddr: new Uint8Array(0),
      SourcePort: 0,
    });
    expect(hex(b)).toBe('82a44e6f6465a161a55365714e6f01');
  });
});

describe('MsgpackReader / struct decoding: what Go accepts', () => {
  const alive = (b: Uint8Array): Alive => {
    const r = decodeStruct(b, Schemas.alive);
    if (!r.ok) throw new Error(r.reason);
    return r.value;
  };

  it('reads str8, bin8 and arrays of integers into byte fields and strings', () => {
    // {Node: str8 "n", Addr: bin8 [1,2,3,4], Vsn: [1,5,2,0,1,1]}
    const b = unhex('83a44e6f6465d9016ea441646472c40401020304a356736e96010502000101');
    const v = alive(b);
    expect(v.Node).toBe('n');
    expect([...v.Addr]).toEqual([1, 2, 3, 4]);
    expect([...v.Vsn]).toEqual([1, 5, 2, 0, 1, 1]);
  });

  it('reads a struct encoded as an array, in declaration order (StructToArray)', () => {
    const v = alive(unhex('9601a16ea40a000001cd1f0ac0a6010502000101'));
    expect(v).toEqual({
      Incarnation: 1,
      Node: 'n',
      Addr: new Uint8Array([10, 0, 0, 1]),
      Port: 7946,
      Meta: new Uint8Array(0),
      Vsn: new Uint8Array([1, 5, 2, 0, 1, 1]),
    });
  });

  it('skips unknown keys (a newer peer may add fields) and ignores trailing bytes', () => {
    const b = unhex(
      '83a44e6f6465a16ea3466f6f82a161c0a16292c3cb3ff0000000000000a4506f7274cd1f90ffff',
    );
    const v = alive(b);
    expect(v.Node).toBe('n');
    expect(v.Port).toBe(8080);
  });

  it('gives absent fields their zero value and lets a later duplicate key win', () => {
    const v = alive(unhex('82a4506f727401a4506f727402'));
    expect(v).toEqual({
      Incarnation: 0,
      Node: '',
      Addr: new Uint8Array(0),
      Port: 2,
      Meta: new Uint8Array(0),
      Vsn: new Uint8Array(0),
    });
  });

  it('accepts any integer form that fits and nil as zero', () => {
    for (const h of [
      '05',
      'cc05',
      'cd0005',
      'ce00000005',
      'cf0000000000000005',
      'd005',
      'd10005',
      'd200000005',
      'd30000000000000005',
    ]) {
      expect(new MsgpackReader(unhex(h)).integer(0, 0xffff)).toBe(5);
    }
    expect(new MsgpackReader(unhex('c0')).integer(0, 10)).toBe(0);
  });

  it.each([
    ['negative into unsigned', 'ff', 0, 0xffff],
    ['overflow uint16', 'ce00010000', 0, 0xffff],
    ['uint64 beyond 2^53', 'cfffffffffffffffff', 0, Number.MAX_SAFE_INTEGER],
    ['a string', 'a0', 0, 10],
    ['a float', 'cb3ff0000000000000', 0, 10],
  ])('refuses %s', (_n, h, min, max) => {
    expect(() => new MsgpackReader(unhex(h)).integer(min, max)).toThrow('bad-msgpack');
  });

  it('reads bools from 0xc2/0xc3 and from 0/1, as go-msgpack', () => {
    expect(['c3', '01'].map((h) => new MsgpackReader(unhex(h)).bool())).toEqual([true, true]);
    expect(['c2', '00', 'c0'].map((h) => new MsgpackReader(unhex(h)).bool())).toEqual([
      false,
      false,
      false,
    ]);
    expect(() => new MsgpackReader(unhex('02')).bool()).toThrow('bad-msgpack');
  });

  it('reports truncation rather than reading past the end', () => {
    expect(decodeStruct(unhex('83a44e6f6465a5'), Schemas.alive)).toEqual({
      ok: false,
      reason: 'truncated',
    });
    expect(decodeStruct(unhex('dfffffffff'), Schemas.alive)).toEqual({
      ok: false,
      reason: 'truncated',
    });
  });

  it.each([
    ['positive fixint', '05'],
    ['negative fixint', 'e0'],
    ['fixstr', 'a3616263'],
    ['fixmap', '81a161c0'],
    ['fixarray', '92c3c2'],
    ['nil', 'c0'],
    ['bin 8', 'c4020102'],
    ['bin 16', 'c5000101'],
    ['bin 32', 'c60000000101'],
    ['ext 8', 'c70105ab'],
    ['ext 16', 'c8000105ab'],
    ['ext 32', 'c90000000105ab'],
    ['float 32', 'ca3f800000'],
    ['float 64', 'cb3ff0000000000000'],
    ['uint 8', 'cc01'],
    ['uint 16', 'cd0001'],
    ['uint 32', 'ce00000001'],
    ['uint 64', 'cf0000000000000001'],
    ['int 8', 'd0ff'],
    ['int 16', 'd1ffff'],
    ['int 32', 'd2ffffffff'],
    ['int 64', 'd3ffffffffffffffff'],
    ['fixext 1', 'd405ab'],
    ['fixext 2', 'd505abab'],
    ['fixext 4', 'd605abababab'],
    ['fixext 8', 'd705' + 'ab'.repeat(8)],
    ['fixext 16', 'd805' + 'ab'.repeat(16)],
    ['str 8', 'd90161'],
    ['str 16', 'da000161'],
    ['str 32', 'db0000000161'],
    ['array 16', 'dc0001c0'],
    ['array 32', 'dd00000001c0'],
    ['map 16', 'de0001c0c0'],
    ['map 32', 'df00000001c0c0'],
  ])('skip passes over exactly one %s', (_name, value) => {
    const r = new MsgpackReader(unhex(value + 'c3'));
    r.skip();
    expect(r.pos).toBe(value.length / 2);
  });

  it('skip refuses the never-used type byte 0xc1 and a value cut short', () => {
    expect(() => new MsgpackReader(unhex('c1')).skip()).toThrow(/bad-msgpack/);
    expect(() => new MsgpackReader(unhex('cd00')).skip()).toThrow(/truncated/);
  });

  it('bounds nesting when skipping unknown values', () => {
    const deep = new Uint8Array(200).fill(0x91);
    const b = new Uint8Array([0x81, 0xa1, 0x78, ...deep, 0xc0]);
    expect(decodeStruct(b, Schemas.alive)).toEqual({ ok: false, reason: 'too-deep' });
  });

  it('refuses a non-container where a struct is expected, and takes nil as the zero struct', () => {
    expect(decodeStruct(unhex('a3616263'), Schemas.nackResp)).toEqual({
      ok: false,
      reason: 'bad-msgpack',
    });
    const r = decodeStruct(unhex('c0'), Schemas.nackResp);
    expect(r.ok && r.value).toEqual({ SeqNo: 0 });
  });

  it('round-trips an empty raw as GO_EMPTY_BYTES', () => {
    const v = alive(unhex('81a44d657461a0'));
    expect(v.Meta).toBe(GO_EMPTY_BYTES);
    expect(hex(encodeStruct(Schemas.alive, v))).toContain('a44d657461a0');
  });
});
