/**
 * Reply headers: the response envelope's `h` (rpc-codec.ts), set by a handler through
 * `RpcRequest.setReplyHeaders` (rpc-responder.ts) and read with `requestWithHeaders` (rpc.ts).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryNetwork } from '@plumtree/swim';
import { DEFAULT_FRAME_LIMITS } from '@plumtree/plumtree';
import { concat, defer, lastValueFrom, of, toArray } from 'rxjs';
import { InvalidHeadersError, PlumtreeNode, RequestHandlerError } from '../index.js';
import { FrameKind } from '../frame-kinds.js';
import { decodeRpcFrame, encodeRpcRequest, encodeRpcResponse, RpcStatus } from './rpc-codec.js';

import { FAST_SWIM } from '../../../../test/support/fast-swim.js';
import { waitFor } from '../../../../test/support/wait-for.js';

/** A response frame with the envelope `env` as it is, past the encoder's checks. */
function rawResponse(env: unknown): Uint8Array {
  const e = Buffer.from(JSON.stringify(env), 'utf8');
  const out = new Uint8Array(10 + e.length);
  const view = new DataView(out.buffer);
  out[0] = FrameKind.RpcResponse;
  view.setUint32(1, 5);
  out[5] = RpcStatus.Ok;
  view.setUint32(6, e.length);
  out.set(e, 10);
  return out;
}

/** `n` headers of `valueBytes` bytes each. */
function many(n: number, valueBytes = 1): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'.repeat(valueBytes)]));
}

describe('rpc codec: reply headers', () => {
  const base = { requestId: 5, status: RpcStatus.Ok, contentType: 'c', payload: Uint8Array.of(1) };

  it('carries reply headers, and reads a first-release response (no `h`) as none', () => {
    const d = decodeRpcFrame(encodeRpcResponse({ ...base, headers: { 'x-v': '2' } }));
    expect(d).toMatchObject({ status: RpcStatus.Ok, headers: { 'x-v': '2' } });
    // No headers, or an empty set: the first release's envelope `{c}`, byte for byte.
    expect(encodeRpcResponse({ ...base, headers: {} })).toEqual(encodeRpcResponse(base));
    expect(decodeRpcFrame(rawResponse({ c: 'c' }))).not.toHaveProperty('headers');
    expect(decodeRpcFrame(rawResponse({ c: 'c', h: { a: 'b' } }))).toMatchObject({
      headers: { a: 'b' },
    });
  });

  it("holds request and reply headers to a publish's caps: the encoder throws, the decoder drops", () => {
    const max = DEFAULT_FRAME_LIMITS.maxHeaders;
    const tooMany = many(max + 1);
    const tooBig = many(2, DEFAULT_FRAME_LIMITS.maxHeaderBytes);
    const longKey = { ['k'.repeat(256)]: 'v' };
    for (const headers of [tooMany, tooBig, longKey]) {
      expect(() => encodeRpcResponse({ ...base, headers })).toThrow(InvalidHeadersError);
      expect(() =>
        encodeRpcRequest({ ...base, topic: 't', headers, metadata: {}, requestId: 1 }),
      ).toThrow(InvalidHeadersError);
      expect(decodeRpcFrame(rawResponse({ c: 'c', h: headers }))).toBeNull();
    }
    expect(decodeRpcFrame(encodeRpcResponse({ ...base, headers: many(max) }))).not.toBeNull();
    for (const h of [null, [], 'x', { a: 1 }, { a: null }]) {
      expect(decodeRpcFrame(rawResponse({ c: 'c', h }))).toBeNull();
    }
  });

  it('never throws on mutated frames with headers', () => {
    const frame = encodeRpcResponse({ ...base, headers: { 'x-a': 'é', traceparent: '00-ab' } });
    let seed = 7;
    const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let i = 0; i < 5_000; i++) {
      const m = frame.slice();
      for (let j = 0; j <= i % 4; j++) m[next() % m.length] = next() % 256;
      const cut = m.subarray(0, next() % (m.length + 1));
      expect(() => decodeRpcFrame(i % 2 === 0 ? m : cut)).not.toThrow();
    }
  });
});

describe('PlumtreeNode.requestWithHeaders', () => {
  const nodes: PlumtreeNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  async function pair(): Promise<[PlumtreeNode, PlumtreeNode]> {
    const net = new MemoryNetwork();
    for (let i = 0; i < 2; i++) {
      const node = await PlumtreeNode.start({
        name: i === 0 ? 'a' : 'b',
        persistence: false,
        transport: net.bind(`10.0.0.${i + 1}:7946`, { streamTimeoutMs: 600_000 }),
        swim: FAST_SWIM,
        seeds: nodes.length > 0 ? [nodes[0]!.address] : [],
        seed: i + 1,
      });
      nodes.push(node);
    }
    const [a, b] = nodes as [PlumtreeNode, PlumtreeNode];
    await waitFor('membership', () => a.members().length === 2 && b.members().length === 2);
    return [a, b];
  }

  it('returns the headers a remote handler set, merged; none as an empty object', async () => {
    const [a, b] = await pair();
    b.handleRequests('calc.add', (req) => {
      req.setReplyHeaders({ 'x-version': '1', 'x-node': 'old' });
      req.setReplyHeaders({ 'x-node': 'b' });
      const { x, y } = req.payload as { x: number; y: number };
      return Promise.resolve(x + y);
    });
    b.handleRequests('plain', () => 'p');
    await waitFor('responders', () => a.respondersOf('plain').length === 1);
    await expect(a.requestWithHeaders('calc.add', { x: 2, y: 3 })).resolves.toEqual({
      data: 5,
      headers: { 'x-version': '1', 'x-node': 'b' },
    });
    await expect(a.requestWithHeaders('plain', 0)).resolves.toEqual({ data: 'p', headers: {} });
    // `request` still gives the value alone.
    await expect(a.request('calc.add', { x: 1, y: 1 })).resolves.toBe(2);
  });

  it('merges the headers of every frame of a reply stream, and of an in-process handler', async () => {
    const [a, b] = await pair();
    b.handleRequests('s', (req) =>
      concat(
        defer(() => {
          req.setReplyHeaders({ first: '1', n: '1' });
          return of(1);
        }),
        defer(() => {
          req.setReplyHeaders({ n: '2' });
          return of(2);
        }),
      ),
    );
    a.handleRequests('local', (req) => {
      req.setReplyHeaders({ here: 'yes' });
      return undefined;
    });
    await waitFor('responders', () => a.respondersOf('s').length === 1);
    await expect(a.requestWithHeaders('s', 0)).resolves.toEqual({
      data: 2,
      headers: { first: '1', n: '2' },
    });
    await expect(lastValueFrom(a.requestStream('s', 0).pipe(toArray()))).resolves.toEqual([1, 2]);
    await expect(a.requestWithHeaders('local', 0)).resolves.toEqual({
      data: undefined,
      headers: { here: 'yes' },
    });
  });

  it('fails the request with the handler error when the handler sets headers over the caps', async () => {
    const [a, b] = await pair();
    b.handleRequests('bad', (req) => {
      req.setReplyHeaders(many(DEFAULT_FRAME_LIMITS.maxHeaders));
      req.setReplyHeaders({ one: 'more' });
      return 1;
    });
    await waitFor('responders', () => a.respondersOf('bad').length === 1);
    const err = await a.requestWithHeaders('bad', 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestHandlerError);
    expect((err as RequestHandlerError).remoteName).toBe('InvalidHeadersError');
    await expect(a.request('bad', 0, { headers: many(1, 20_000) })).rejects.toThrow(
      InvalidHeadersError,
    );
    expect(b.stats().node.rpc.handlerErrors).toBe(1);
  });
});
