import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryNetwork } from '@plumtree/swim';
import {
  decodeRpcFrame,
  encodeRpcRequest,
  encodeRpcResponse,
  NoSubscribersError,
  PlumtreeNode,
  RequestHandlerError,
  RequestTimeoutError,
  RPC_REQUEST_KIND,
  RpcStatus,
  type RpcRequest,
} from '../index.js';

import { FAST_SWIM } from '../../../../test/support/fast-swim.js';
import { waitFor } from '../../../../test/support/wait-for.js';

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
    const d = decodeRpcFrame(req);
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
      if (cut !== null) expect(cut.payload.length).toBeLessThan(3);
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
});

describe('PlumtreeNode request/reply on a MemoryNetwork', () => {
  const nodes: PlumtreeNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  async function cluster(net: MemoryNetwork, n: number): Promise<PlumtreeNode[]> {
    for (let i = 0; i < n; i++) {
      const node = await PlumtreeNode.start({
        name: `n${i}`,
        persistence: false,
        transport: net.bind(`10.0.0.${i + 1}:7946`, { streamTimeoutMs: 600_000 }),
        swim: FAST_SWIM,
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
    await waitFor('responders in the directory', () => a!.subscribersOf('calc.add').length === 2);
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

  it('retries once on another subscriber when the chosen one dies, then times out', async () => {
    const [a, b, c] = await cluster(new MemoryNetwork(), 3);
    const got: string[] = [];
    const hang = (name: string) => (): Promise<unknown> => {
      got.push(name);
      return new Promise(() => undefined);
    };
    b!.handleRequests('slow', hang('n1'));
    c!.handleRequests('slow', (req) => {
      got.push('n2');
      if (got.length === 1) return new Promise(() => undefined);
      return `pong from n2 to ${req.from}`;
    });
    await waitFor('responders in the directory', () => a!.subscribersOf('slow').length === 2);
    // Either subscriber may be tried first (lowest RTT, random among equals). When it is n2, the
    // retry goes to n1, which hangs: the attempt's timeout must end well inside jest's 5 s.
    const reply = a!.request('slow', 'ping', { timeoutMs: 2_000 });
    await waitFor('the first attempt', () => got.length === 1);
    const first = got[0] === 'n1' ? b! : c!;
    await first.close(); // killed mid-request: the frame connection drops
    if (got[0] === 'n1') {
      await expect(reply).resolves.toBe('pong from n2 to n0');
    } else {
      // n2 died first and n1 always hangs: the retry times out.
      await expect(reply).rejects.toBeInstanceOf(RequestTimeoutError);
    }
    expect(got).toHaveLength(2);
    expect(a!.stats().node.rpc.retries).toBe(1);
  });

  it('rejects with RequestTimeoutError after two hung attempts, naming both', async () => {
    const [a, b, c] = await cluster(new MemoryNetwork(), 3);
    b!.handleRequests('hang', () => new Promise(() => undefined));
    c!.handleRequests('hang', () => new Promise(() => undefined));
    await waitFor('responders in the directory', () => a!.subscribersOf('hang').length === 2);
    const err = await a!.request('hang', 1, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    const t = err as RequestTimeoutError;
    expect(t.attempts.map((x) => x.peer).sort()).toEqual(['n1', 'n2']);
    expect(t.message).toContain('no reply within 200 ms');
  });

  it('reports handler errors, missing subscribers and empty replies', async () => {
    const [a, b] = await cluster(new MemoryNetwork(), 2);
    b!.handleRequests('boom', () => {
      throw new TypeError('bad input');
    });
    b!.handleRequests('void', () => undefined);
    await waitFor('responder in the directory', () => a!.subscribersOf('void').length === 1);
    const err = await a!.request('boom', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestHandlerError);
    expect((err as RequestHandlerError).remoteName).toBe('TypeError');
    expect((err as Error).message).toContain('bad input');
    await expect(a!.request('void', {})).resolves.toBeUndefined();
    await expect(a!.request('nobody.here', {})).rejects.toBeInstanceOf(NoSubscribersError);
    expect(() => b!.handleRequests('void', () => 1)).toThrow(/registered already/);
  });
});
