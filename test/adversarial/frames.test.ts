/**
 * Frames from outside the cluster (issue 13 item 1), against real PlumtreeNodes on 127.0.0.1:
 * a raw TCP client named 'mallory' (never a member) sends a well-formed handshake and then a
 * hand-off, a request, a catch-up request on a durable topic and a Plumtree GOSSIP of a topic
 * nobody subscribes to: nothing is delivered, run, answered or joined, and each refusal shows in
 * `stats().transport.refused`. With a keyring: a wrong-key handshake, a sealed batch replayed on
 * its connection or on another one, and a key holder claiming a member's name from another
 * address (127.0.0.2) are refused. Waits are bounded polls.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as net from 'node:net';
import { encodeFrame, FrameType } from '@plumtree/plumtree';
import { Keyring } from '@plumtree/swim';
import { PlumtreeNode, type PlumtreeNodeOptions } from '@plumtree/cluster';
import { encodeCatchupRequest } from '../../libs/cluster/src/durable/catchup-codec.js';
import { encodeHandoffRequest } from '../../libs/cluster/src/handoff/handoff-codec.js';
import { encodeRpcCancel, encodeRpcRequest } from '../../libs/cluster/src/rpc/rpc-codec.js';
import { encodePlainPreamble } from '../../libs/cluster/src/transport/frame-handshake.js';
import { Handshake } from '../../libs/cluster/src/transport/handshake-machine.js';
import { FAST_SWIM } from '../support/fast-swim.js';
import { waitFor } from '../support/wait-for.js';

jest.setTimeout(60_000);

const KEY = Buffer.alloc(32, 7);
const WRONG_KEY = Buffer.alloc(32, 9);

function start(name: string, extra: Partial<PlumtreeNodeOptions> = {}): Promise<PlumtreeNode> {
  return PlumtreeNode.start({
    name,
    bindAddr: '127.0.0.1',
    bindPort: 0,
    swim: FAST_SWIM,
    persistence: false,
    ...extra,
  });
}

/** A raw TCP connection, recording what it receives. */
interface Raw {
  readonly socket: net.Socket;
  readonly received: Buffer[];
  closed: boolean;
}

/** Connects to `port` on 127.0.0.1 from `localAddress`. */
function connect(port: number, localAddress = '127.0.0.1'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const raw: Raw = { socket, received: [], closed: false };
    socket.on('data', (c: Buffer) => raw.received.push(c));
    socket.on('error', () => {});
    socket.once('close', () => (raw.closed = true));
    socket.once('connect', () => resolve(raw));
    socket.once('error', reject);
  });
}

/** `[u32 length][bytes]`. */
function framed(bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([head, bytes]);
}

const payload = Buffer.from(JSON.stringify('forged'));
const forgedId = { origin: 'billing', epoch: 1, seq: 1 };

function requestFrame(requestId: number): Uint8Array {
  return encodeRpcRequest({
    requestId,
    topic: 'svc',
    contentType: 'application/json',
    headers: {},
    metadata: {},
    payload,
  });
}

/**
 * Runs the sealed dialer handshake as `name` with `keyring` over `raw`, calling `onProof` right
 * after the proof is written; resolves with the handshake once answered, rejects when refused.
 */
async function sealedHandshake(
  raw: Raw,
  name: string,
  keyring: Keyring,
  onProof: (hs: Handshake) => void = () => {},
): Promise<Handshake> {
  const hs = new Handshake('dialer', name, keyring);
  let state = 'running' as 'running' | 'done' | 'failed';
  raw.socket.on('data', (chunk: Buffer) => {
    if (state !== 'running') return;
    const step = hs.push(chunk);
    if (step.kind === 'more' && step.write) {
      raw.socket.write(step.write);
      onProof(hs);
    }
    if (step.kind === 'done') state = 'done';
    if (step.kind === 'error') state = 'failed';
  });
  raw.socket.write(hs.hello());
  await waitFor(`handshake as ${name}`, () => state !== 'running' || raw.closed);
  if (state !== 'done') throw new Error(`handshake as ${name} refused`);
  return hs;
}

describe('frames from a non-member (plain cluster)', () => {
  let a: PlumtreeNode;
  let b: PlumtreeNode;
  const delivered: string[] = [];
  let handled = 0;

  beforeAll(async () => {
    b = await start('b', { durable: { topics: ['log'] } });
    a = await start('a', { seeds: [b.address] });
    b.subscribe('orders').subscribe((d) => delivered.push(d.topic));
    b.subscribe('log').subscribe((d) => delivered.push(d.topic));
    b.handleRequests('svc', () => {
      handled++;
      return 'ok';
    });
    await waitFor('two members', () => a.members().length === 2 && b.members().length === 2);
    await waitFor('b in the directory', () => a.subscribersOf('log').includes('b'));
    await a.publish('log', 'kept');
    await waitFor('log delivered', () => delivered.length === 1);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('delivers, runs, answers and joins nothing, and counts each refusal', async () => {
    const port = Number(b.address.split(':')[1]);
    const before = b.stats();
    const topicsBefore = b.topics();
    const gossip = { type: FrameType.Gossip, id: forgedId, hops: 1, publishedAtMs: 0, payload };
    const frames = [
      encodeHandoffRequest({ ...gossip, type: FrameType.Gossip, topic: 'orders' }),
      requestFrame(1),
      encodeCatchupRequest({
        requestId: 1,
        topic: 'log',
        marks: [],
        maxMessages: 100,
        maxBytes: 1 << 20,
      }),
      encodeFrame({ ...gossip, type: FrameType.Gossip, topic: 'secret.x' }),
    ];
    const conns = await Promise.all(frames.map(() => connect(port)));
    conns.forEach((c, i) =>
      c.socket.write(Buffer.concat([encodePlainPreamble('mallory'), framed(frames[i]!)])),
    );
    await waitFor('four refusals', () => b.stats().transport.refused['not-member'] === 4, {
      lastSeen: () => JSON.stringify(b.stats().transport.refused),
    });
    await waitFor('closed', () => conns.every((c) => c.closed));
    // Never answered: mallory did not even learn b's name.
    expect(conns.every((c) => c.received.length === 0)).toBe(true);
    expect(delivered).toEqual(['log']);
    expect(handled).toBe(0);
    const after = b.stats();
    expect(after.durable.topics['log']!.requestsServed).toBe(
      before.durable.topics['log']!.requestsServed,
    );
    expect(after.node.handoffs).toEqual(before.node.handoffs);
    expect(after.transport.framesReceived).toBe(before.transport.framesReceived);
    expect(b.topics()).toEqual(topicsBefore);
    expect(b.topics()).not.toContain('secret.x');
    expect(after.directory.subscriptions).toEqual(before.directory.subscriptions);
    expect(after.transport.pendingConnections).toBe(0);
  });
});

describe('frames under a keyring', () => {
  let a: PlumtreeNode;
  let b: PlumtreeNode;
  const keys = [KEY.toString('base64')];
  let handled = 0;

  beforeAll(async () => {
    b = await start('b', { keys });
    a = await start('a', { keys, seeds: [b.address] });
    b.handleRequests('svc', () => {
      handled++;
      return 'ok';
    });
    await waitFor('two members', () => a.members().length === 2 && b.members().length === 2);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const port = (): number => Number(b.address.split(':')[1]);

  it('refuses a wrong-key handshake', async () => {
    const raw = await connect(port());
    await expect(sealedHandshake(raw, 'a', new Keyring([], WRONG_KEY))).rejects.toThrow(/refused/);
    await waitFor('counted', () => b.stats().transport.refused['handshake-failed']! >= 1);
    expect(b.stats().transport.drops['auth-failed']).toBeGreaterThanOrEqual(1);
  });

  it('refuses a sealed batch replayed on its connection or on another one', async () => {
    // A key holder on a member's host (the limit of the address check) speaks as 'a'.
    const raw = await connect(port());
    const hs = await sealedHandshake(raw, 'a', new Keyring([], KEY));
    const recorded = framed(hs.session!.seal(KEY, framed(encodeRpcCancel(12345))));
    const receivedBefore = b.stats().transport.framesReceived;
    raw.socket.write(recorded);
    await waitFor('first copy delivered', () => {
      return b.stats().transport.framesReceived === receivedBefore + 1;
    });
    raw.socket.write(recorded);
    await waitFor('replay refused', () => b.stats().transport.refused['replay'] === 1);
    await waitFor('closed', () => raw.closed);
    // The same batch on a fresh connection (its own nonces) does not open either.
    const raw2 = await connect(port());
    await sealedHandshake(raw2, 'a', new Keyring([], KEY));
    raw2.socket.write(recorded);
    await waitFor('cross-connection refused', () => b.stats().transport.refused['replay'] === 2);
    expect(b.stats().transport.framesReceived).toBe(receivedBefore + 1);
  });

  it("refuses a key holder claiming a member's name from another address", async () => {
    const raw = await connect(port(), '127.0.0.2');
    // The request is sent right after the proof, without waiting for an answer that never comes.
    const attempt = sealedHandshake(raw, 'a', new Keyring([], KEY), (hs) => {
      raw.socket.write(framed(hs.session!.seal(KEY, framed(requestFrame(2)))));
    });
    await expect(attempt).rejects.toThrow(/refused/);
    expect(b.stats().transport.refused['address']).toBe(1);
    expect(handled).toBe(0);
    // The real 'a' still gets its frames through.
    await expect(a.request('svc', 'hi')).resolves.toBe('ok');
    expect(handled).toBe(1);
  });
});
