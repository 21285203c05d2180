import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryNetwork } from '@plumtree/swim';
import { firstValueFrom, from, interval, map, Observable, take, throwError, toArray } from 'rxjs';
import {
  NoRespondersError,
  NoSubscribersError,
  PayloadTooLargeError,
  PlumtreeNode,
  RequestHandlerError,
  RequestTimeoutError,
  ResponderBusyError,
  UnserializablePayloadError,
  type PlumtreeNodeOptions,
  type RpcRequest,
} from '../index.js';
import { decodeWireError, encodeWireError } from './rpc-error-wire.js';

import { FAST_SWIM } from '../../../../test/support/fast-swim.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import {
  decodeRpcFrame,
  encodeRpcCancel,
  encodeRpcRequest,
  encodeRpcResponse,
  RPC_REQUEST_KIND,
  RpcStatus,
} from './rpc-codec.js';

describe('rpc codec', () => {
  it('round-trips requests and responses and rejects malformed frames', () => {
    const req = encodeRpcRequest({
      requestId: 0xfffffffe,
      topic: 'calc.add',
      contentType: 'application/json',
      headers: { a: 'b' },
      metadata: { trace: 't1' },
      payload: new Uint8Array([1, 2, 3]),
    });
    const d = decodeRpcFrame(req) as { payload: Uint8Array } | null;
    expect(d).toMatchObject({
      kind: RPC_REQUEST_KIND,
      requestId: 0xfffffffe,
      topic: 'calc.add',
      headers: { a: 'b' },
      metadata: { trace: 't1' },
    });
    expect([...d!.payload]).toEqual([1, 2, 3]);
    const res = encodeRpcResponse({
      requestId: 7,
      status: RpcStatus.Error,
      contentType: 'application/json',
      payload: new Uint8Array([9]),
    });
    expect(decodeRpcFrame(res)).toMatchObject({ requestId: 7, status: RpcStatus.Error });
    // Truncations, bad kinds, bad envelopes and bad statuses decode to null, never throw.
    for (let n = 0; n < req.length; n++) {
      const cut = decodeRpcFrame(req.subarray(0, n));
      if (cut !== null) expect((cut as { payload: Uint8Array }).payload.length).toBeLessThan(3);
    }
    const badKind = req.slice();
    badKind[0] = 0x83;
    expect(decodeRpcFrame(badKind)).toBeNull();
    const badStatus = res.slice();
    badStatus[5] = 9;
    expect(decodeRpcFrame(badStatus)).toBeNull();
    const badMeta = encodeRpcRequest({
      requestId: 1,
      topic: 't',
      contentType: 'x',
      headers: {},
      metadata: {},
      payload: new Uint8Array(0),
    });
    badMeta[badMeta.length - 2] = 0xff; // breaks the JSON envelope's UTF-8
    expect(decodeRpcFrame(badMeta)).toBeNull();
  });

  it('carries the timeout and stream flag, cancels, and Next frames', () => {
    const base = {
      requestId: 3,
      topic: 't',
      contentType: 'x',
      headers: {},
      metadata: {},
      payload: new Uint8Array(0),
    };
    expect(
      decodeRpcFrame(encodeRpcRequest({ ...base, timeoutMs: 1500, streams: true })),
    ).toMatchObject({ timeoutMs: 1500, streams: true });
    const plain = decodeRpcFrame(encodeRpcRequest(base));
    expect(plain).not.toHaveProperty('timeoutMs');
    expect(plain).not.toHaveProperty('streams');
    // Out-of-range timeouts and other stream flags are malformed.
    for (const bad of [0, -1, 1.5, 3_600_001]) {
      expect(decodeRpcFrame(encodeRpcRequest({ ...base, timeoutMs: bad }))).toBeNull();
    }
    expect(decodeRpcFrame(encodeRpcCancel(9))).toEqual({
      kind: RPC_REQUEST_KIND,
      cancel: true,
      requestId: 9,
    });
    const cancelWithTail = Uint8Array.from([...encodeRpcCancel(9), 1]);
    expect(decodeRpcFrame(cancelWithTail)).toBeNull();
    const next = encodeRpcResponse({
      requestId: 1,
      status: RpcStatus.Next,
      contentType: 'c',
      payload: new Uint8Array([5]),
    });
    expect(decodeRpcFrame(next)).toMatchObject({ status: RpcStatus.Next });
  });

  it('carries any error value, and what the first release sent', () => {
    expect(decodeWireError(encodeWireError(new TypeError('bad')))).toEqual({
      name: 'TypeError',
      message: 'bad',
      error: { name: 'TypeError', message: 'bad' },
    });
    const nest = { status: 'error', message: 'test' };
    expect(decodeWireError(encodeWireError(nest))).toEqual({
      name: 'Error',
      message: 'test',
      error: nest,
    });
    expect(decodeWireError(encodeWireError({ data: [1] }))).toMatchObject({
      message: '{"data":[1]}',
      error: { data: [1] },
    });
    expect(decodeWireError(encodeWireError('plain'))).toMatchObject({ message: 'plain' });
    const cyclic: Record<string, unknown> = { message: 'loop' };
    cyclic['self'] = cyclic;
    expect(decodeWireError(encodeWireError(cyclic))).toMatchObject({
      message: 'loop',
      error: { name: 'Error', message: 'loop' },
    });
    expect(decodeWireError(Buffer.from('{"name":"E","message":"m"}'))).toEqual({
      name: 'E',
      message: 'm',
      error: { name: 'E', message: 'm' },
    });
    expect(decodeWireError(Uint8Array.of(0xff)).message).toBe('unreadable error');
  });
});

describe('PlumtreeNode request/reply on a MemoryNetwork', () => {
  const nodes: PlumtreeNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  async function cluster(
    net: MemoryNetwork,
    n: number,
    plumtree?: { maxMessageSize: number },
    limits?: PlumtreeNodeOptions['limits'],
  ): Promise<PlumtreeNode[]> {
    for (let i = 0; i < n; i++) {
      const node = await PlumtreeNode.start({
        name: `n${i}`,
        persistence: false,
        transport: net.bind(`10.0.0.${i + 1}:7946`, { streamTimeoutMs: 600_000 }),
        swim: FAST_SWIM,
        ...(plumtree !== undefined ? { plumtree } : {}),
        ...(limits !== undefined ? { limits } : {}),
        seeds: nodes.length > 0 ? [nodes[0]!.address] : [],
        seed: i + 1,
      });
      nodes.push(node);
    }
    await waitFor('membership', () => nodes.every((x) => x.members().length === n));
    return nodes.slice();
  }

  it('answers through one responder, with headers and metadata', async () => {
    const [a, b, c] = await cluster(new MemoryNetwork(), 3);
    const seen: { node: string; req: RpcRequest }[] = [];
    b!.handleRequests('calc.add', (req) => {
      seen.push({ node: 'n1', req });
      const { x, y } = req.payload as { x: number; y: number };
      return Promise.resolve({ sum: x + y });
    });
    c!.handleRequests('calc.*', (req) => {
      seen.push({ node: 'n2', req });
      const { x, y } = req.payload as { x: number; y: number };
      return { sum: x + y };
    });
    await waitFor('responders in the directory', () => a!.respondersOf('calc.add').length === 2);
    // A responder is not a subscriber: it receives no events of the topic.
    expect(a!.subscribersOf('calc.add')).toEqual([]);
    const reply = await a!.request(
      'calc.add',
      { x: 2, y: 3 },
      {
        headers: { h: '1' },
        metadata: { trace: 'abc' },
      },
    );
    expect(reply).toEqual({ sum: 5 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.req).toMatchObject({
      topic: 'calc.add',
      from: 'n0',
      headers: { h: '1' },
      metadata: { trace: 'abc' },
    });
    expect(a!.stats().node.rpc).toMatchObject({ requests: 1, attempts: 1, replies: 1 });
  });

  it('answers ResponderBusyError, unrun, beyond maxRequestsPerPeer; counted in stats().limits', async () => {
    const [a, b] = await cluster(new MemoryNetwork(), 2, undefined, {
      maxRequestsPerPeer: 1,
      maxRequests: 8,
    });
    let runs = 0;
    b!.handleRequests('slow', () => {
      runs++;
      return new Observable<number>(() => undefined);
    });
    await waitFor('the responder in the directory', () => a!.respondersOf('slow').length === 1);
    const first = a!.request('slow', 1, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    await waitFor('the first handler running', () => runs === 1);
    await expect(a!.request('slow', 2)).rejects.toBeInstanceOf(ResponderBusyError);
    expect(runs).toBe(1);
    expect(b!.stats().limits.requestsBusy).toBe(1);
    void first;
  });

  it('routes only to responders: event-only subscribers of the topic are never asked', async () => {
    const [a, b, c, d] = await cluster(new MemoryNetwork(), 4);
    const subs = [b!, c!].map((n) => n.subscribe('q').subscribe());
    d!.handleRequests('q', (req) => `from n3 to ${req.from}`);
    await waitFor(
      'the directory',
      () => a!.respondersOf('q').join() === 'n3' && a!.subscribersOf('q').length === 2,
    );
    const replies = await Promise.all(Array.from({ length: 20 }, () => a!.request('q', 1)));
    expect(replies).toEqual(Array.from({ length: 20 }, () => 'from n3 to n0'));
    expect([b!, c!].map((n) => n.stats().node.rpc.received)).toEqual([0, 0]);
    for (const s of subs) s.unsubscribe();
    await expect(a!.request('nobody.here', {})).rejects.toBeInstanceOf(NoRespondersError);
    await expect(a!.request('nobody.here', {})).rejects.toBeInstanceOf(NoSubscribersError);
  });

  it('does not retry a request whose responder died: the handler may have run', async () => {
    const [a, b, c] = await cluster(new MemoryNetwork(), 3);
    const got: string[] = [];
    const hang = (name: string) => (): Promise<unknown> => {
      got.push(name);
      return new Promise(() => undefined);
    };
    b!.handleRequests('slow', hang('n1'));
    c!.handleRequests('slow', hang('n2'));
    await waitFor('responders in the directory', () => a!.respondersOf('slow').length === 2);
    const reply = a!.request('slow', 'ping', { timeoutMs: 60_000 });
    await waitFor('the first attempt', () => got.length === 1);
    await (got[0] === 'n1' ? b! : c!).close(); // killed mid-request
    const err = await reply.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect((err as RequestTimeoutError).attempts).toHaveLength(1);
    expect(got).toHaveLength(1);
    expect(a!.stats().node.rpc.retries).toBe(0);
  });

  it('retries on another responder after a death when retryOnTimeout is set', async () => {
    const [a, b, c] = await cluster(new MemoryNetwork(), 3);
    const got: string[] = [];
    for (const [node, name] of [
      [b!, 'n1'],
      [c!, 'n2'],
    ] as const) {
      node.handleRequests('slow', (req) => {
        got.push(name);
        return got.length === 1 ? new Promise(() => undefined) : `pong from ${name} to ${req.from}`;
      });
    }
    await waitFor('responders in the directory', () => a!.respondersOf('slow').length === 2);
    const reply = a!.request('slow', 'ping', { timeoutMs: 60_000, retryOnTimeout: true });
    await waitFor('the first attempt', () => got.length === 1);
    await (got[0] === 'n1' ? b! : c!).close();
    const other = got[0] === 'n1' ? 'n2' : 'n1';
    await expect(reply).resolves.toBe(`pong from ${other} to n0`);
    expect(a!.stats().node.rpc.retries).toBe(1);
  });

  it('rejects with RequestTimeoutError after one hung attempt, or two with retryOnTimeout', async () => {
    const [a, b, c] = await cluster(new MemoryNetwork(), 3);
    b!.handleRequests('hang', () => new Promise(() => undefined));
    c!.handleRequests('hang', () => new Promise(() => undefined));
    await waitFor('responders in the directory', () => a!.respondersOf('hang').length === 2);
    const once = await a!.request('hang', 1, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(once).toBeInstanceOf(RequestTimeoutError);
    expect((once as RequestTimeoutError).attempts).toHaveLength(1);
    expect((once as Error).message).toContain('no reply within 200 ms');
    const twice = await a!
      .request('hang', 1, { timeoutMs: 200, retryOnTimeout: true })
      .catch((e: unknown) => e);
    expect((twice as RequestTimeoutError).attempts.map((x) => x.peer).sort()).toEqual(['n1', 'n2']);
  });

  it('retries a responder that has no handler (it provably did not run)', async () => {
    const [a, b, c] = await cluster(new MemoryNetwork(), 3);
    const removeB = b!.handleRequests('gone', () => 'from n1');
    c!.handleRequests('gone', () => 'from n2');
    await waitFor('responders in the directory', () => a!.respondersOf('gone').length === 2);
    // n1 drops its handler; until the directory says so, n0 may still pick it.
    removeB();
    const replies = await Promise.all(Array.from({ length: 6 }, () => a!.request('gone', 1)));
    expect(replies).toEqual(Array.from({ length: 6 }, () => 'from n2'));
    // Each request that reached n1 got "no handler" and was retried on n2.
    expect(a!.stats().node.rpc.retries).toBe(b!.stats().node.rpc.noHandler);
  });

  it('streams every value of an Observable reply, and its error after the values', async () => {
    const [a, b] = await cluster(new MemoryNetwork(), 2);
    b!.handleRequests('nums', (req) => from(req.payload as number[]));
    b!.handleRequests('ticks', () => interval(5).pipe(take(3)));
    b!.handleRequests('one', () => Promise.resolve(from([42])));
    b!.handleRequests('none', () => from([]));
    b!.handleRequests(
      'bad',
      () =>
        new Observable((s) => {
          s.next(1);
          s.error({ status: 'error', message: 'test' });
        }),
    );
    await waitFor('responders', () => a!.respondersOf('bad').length === 1);
    expect(await firstValueFrom(a!.requestStream('nums', [1, 2, 3, 4, 5]).pipe(toArray()))).toEqual(
      [1, 2, 3, 4, 5],
    );
    expect(await firstValueFrom(a!.requestStream('ticks', 0).pipe(toArray()))).toEqual([0, 1, 2]);
    await expect(a!.request('nums', [1, 2, 3])).resolves.toBe(3);
    await expect(a!.request('one', 0)).resolves.toBe(42);
    expect(await firstValueFrom(a!.requestStream('none', 0).pipe(toArray()))).toEqual([]);
    const seen: unknown[] = [];
    const err = await new Promise<unknown>((resolve) =>
      a!.requestStream('bad', 0).subscribe({ next: (v) => seen.push(v), error: resolve }),
    );
    expect(seen).toEqual([1]);
    expect(err).toBeInstanceOf(RequestHandlerError);
    expect((err as RequestHandlerError).error).toEqual({ status: 'error', message: 'test' });
    expect((err as RequestHandlerError).remoteMessage).toBe('test');
  });

  it('unsubscribes a reply stream when the requester cancels, or when its timeout passes', async () => {
    const [a, b] = await cluster(new MemoryNetwork(), 2);
    let live = 0;
    const endless = new Observable<number>((s) => {
      live++;
      s.next(1);
      return () => live--;
    });
    b!.handleRequests('endless', () => endless);
    await waitFor('responder', () => a!.respondersOf('endless').length === 1);
    await expect(firstValueFrom(a!.requestStream('endless', 0))).resolves.toBe(1);
    await waitFor('the responder to unsubscribe after the cancel', () => live === 0);
    expect(b!.stats().node.rpc.streamsCancelled).toBe(1);
    const seen: unknown[] = [];
    const err = await new Promise<unknown>((resolve) =>
      a!.requestStream('endless', 0, { timeoutMs: 300 }).subscribe({
        next: (v) => seen.push(v),
        error: resolve,
      }),
    );
    expect(seen).toEqual([1]);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    await waitFor('the responder to unsubscribe after the timeout', () => live === 0);
    expect(b!.stats().node.rpc.streamsTimedOut).toBe(1);
  });

  it('answers requests of a handler on the same node in-process', async () => {
    const [a, b] = await cluster(new MemoryNetwork(), 2);
    a!.handleRequests('local.*', (req) => `local ${req.topic} from ${req.from}`);
    b!.handleRequests('local.*', () => 'remote');
    await waitFor('the remote responder', () => a!.respondersOf('local.x').length === 1);
    await expect(a!.request('local.x', 0)).resolves.toBe('local local.x from n0');
    expect(b!.stats().node.rpc.received).toBe(0);
    expect(await firstValueFrom(a!.requestStream('local.y', 0).pipe(map(String)))).toBe(
      'local local.y from n0',
    );
  });

  it('fails fast on oversized requests and replies, and on payloads JSON cannot carry', async () => {
    const [a, b] = await cluster(new MemoryNetwork(), 2, { maxMessageSize: 1024 });
    b!.handleRequests('big', () => 'x'.repeat(2000));
    b!.handleRequests('map', () => new Map([[1, 2]]));
    b!.handleRequests('echo', (req) => req.payload);
    await waitFor('responder', () => a!.respondersOf('echo').length === 1);
    await expect(a!.request('echo', 'x'.repeat(2000))).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(a!.request('echo', new Set([1]))).rejects.toBeInstanceOf(
      UnserializablePayloadError,
    );
    const big = await a!.request('big', 0, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(big).toBeInstanceOf(RequestHandlerError);
    expect((big as RequestHandlerError).remoteName).toBe('PayloadTooLargeError');
    expect((big as Error).message).toMatch(/exceeds maxMessageSize \(1024 bytes\)/);
    expect(b!.stats().node.rpc.repliesTooLarge).toBe(1);
    const map2 = await a!.request('map', 0, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect((map2 as RequestHandlerError).remoteName).toBe('UnserializablePayloadError');
  });

  it('reports handler errors and empty replies; one handler per key', async () => {
    const [a, b] = await cluster(new MemoryNetwork(), 2);
    b!.handleRequests('boom', () => {
      throw new TypeError('bad input');
    });
    b!.handleRequests('void', () => undefined);
    b!.handleRequests('never', () => throwError(() => ({ data: 7 })));
    await waitFor('responder in the directory', () => a!.respondersOf('void').length === 1);
    const err = await a!.request('boom', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestHandlerError);
    expect((err as RequestHandlerError).remoteName).toBe('TypeError');
    expect((err as Error).message).toContain('bad input');
    const nest = await a!.request('never', {}).catch((e: unknown) => e);
    expect((nest as RequestHandlerError).error).toEqual({ data: 7 });
    await expect(a!.request('void', {})).resolves.toBeUndefined();
    expect(() => b!.handleRequests('void', () => 1)).toThrow(/registered already/);
  });
});
