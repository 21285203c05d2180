/**
 * Issue 13, random bytes on both ports: a cluster of three agents (dist/, `--profile local`, no
 * keys: the documented defaults) and an attacker who is no member sending 100,000 inputs to one
 * of them (f0): {@link TCP_STREAMS} byte streams to its TCP port, {@link UDP_PACKETS} packets to
 * its UDP port. The inputs are drawn by fast-check with a fixed seed ({@link SEED}; a failure names it):
 * - TCP: random bytes; random bytes behind a first byte the node dispatches on (a memberlist
 *   message type, the label header, the frame preamble's 'P'); mutations (bit flips, byte sets,
 *   truncations, insertions, deletions, length fields) of valid memberlist streams (push-pull,
 *   user message, ping) and of valid frame connections (a preamble, then Plumtree GOSSIP, IHAVE,
 *   GRAFT, PRUNE and hand-off frames);
 * - UDP: random bytes, random bytes behind a message type, mutations of valid packets (ping,
 *   indirect ping, ack, suspect, alive, dead, a compound, compressed).
 * The valid templates speak only of the real members at their real addresses: without keys a
 * well-formed push-pull naming a new node is a join, which memberlist accepts by design
 * (docs/security.md). A mutation may still turn a name into a new one: such a phantom is probed
 * at a real member's address, which refuses pings for another name, so SWIM declares it dead.
 *
 * Afterwards: f0 is alive (its process runs, `/health` is 200); its alive members are exactly
 * f0, f1, f2 once SWIM has settled (phantoms dead, refutations done); its retained heap (after a
 * full collection, `--expose-gc`) grew by less than {@link HEAP_GROWTH_BOUND_BYTES}, sampled
 * every {@link SAMPLE_EVERY} inputs; f1's publish after the run is delivered to f0; and the
 * counters of dropped input moved (SWIM's `droppedTotal`, the frame transport's drops).
 * Connections run {@link CONCURRENCY} at a time, each closed by the attacker once written.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import { AgentProcess } from '../../apps/bench/src/swim/agent-process.js';
import type { PlumtreeNodeStats } from '../../libs/cluster/src/node/index.js';
import { encodeHandoffRequest } from '../../libs/cluster/src/handoff/handoff-codec.js';
import {
  FRAME_PROTOCOL_VERSION,
  PLUMTREE_STREAM_FIRST_BYTE,
} from '../../libs/cluster/src/transport/frame-handshake.js';
import { encodeFrame, FrameType, type GossipMessage } from '../../libs/plumtree/src/index.js';
import {
  encodeMessage,
  encodePacketMessages,
  encodeStreamMessage,
  MessageType,
  NodeStateType,
  type Message,
  type StreamMessage,
} from '../../libs/swim/src/wire/index.js';
import { repoRoot } from '../support/build-dist.js';
import { waitFor, waitForValue } from '../support/wait-for.js';

/** fast-check seed of every input. */
const SEED = 1313;
const TCP_STREAMS = 50_000;
const UDP_PACKETS = 50_000;
/** Connections open at once. */
const CONCURRENCY = 48;
/** Inputs (TCP and UDP together) between two heap samples. */
const SAMPLE_EVERY = 20_000;
/**
 * Retained heap growth allowed over the baseline at every sample. The node keeps bounded state
 * (member map, caches, per-connection buffers capped by sec-caps' limits); 32 MiB is the issue's
 * bound for a 2 MB flood, and far below what unbounded growth of 200,000 inputs would reach.
 */
const HEAP_GROWTH_BOUND_BYTES = 32 * 1024 * 1024;
/** Longest time one connection is held before the attacker destroys it. */
const CONNECTION_HOLD_MS = 2_000;
const TOPIC = 'fz.t';
const TOKEN = randomBytes(24).toString('base64url');

jest.setTimeout(600_000);

// ---- mutations (the shapes of libs/swim/src/wire/fuzz.spec.ts) ----

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; n: number }
  | { kind: 'length'; at: number; value: number; width: 1 | 2 | 4 };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    n: fc.integer({ min: 1, max: 16 }),
  }),
  fc.record({
    kind: fc.constant('length' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(0, 1, 0x7f, 0xff, 0xffff, 0xffff_ffff), fc.nat()),
    width: fc.constantFrom(1 as const, 2 as const, 4 as const),
  }),
);

function mutate(src: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let b = Buffer.from(src);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.kind) {
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'flip':
        if (b.length > 0) b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'set':
        if (b.length > 0) b[at] = m.value;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + m.n))]);
        break;
      case 'length':
        if (at + m.width <= b.length) {
          if (m.width === 1) b.writeUInt8(m.value & 0xff, at);
          else if (m.width === 2) b.writeUInt16BE(m.value & 0xffff, at);
          else b.writeUInt32BE(m.value >>> 0, at);
        }
        break;
    }
  }
  return b;
}

// ---- valid templates about the real members ----

interface Member {
  readonly name: string;
  readonly port: number;
}

const LOOPBACK = Uint8Array.of(127, 0, 0, 1);
/** memberlist's protocol 1..5 (current 2), delegate 0..0. */
const VSN = Uint8Array.of(1, 5, 2, 0, 0, 0);

function udpTemplates(m: readonly Member[]): Uint8Array[] {
  const [f0, f1, f2] = m as [Member, Member, Member];
  const msgs: Message[] = [
    { type: MessageType.Ping, body: { SeqNo: 7, Node: f0.name } },
    {
      type: MessageType.IndirectPing,
      body: { SeqNo: 8, Target: LOOPBACK, Port: f1.port, Node: f1.name, Nack: true },
    },
    { type: MessageType.AckResp, body: { SeqNo: 7, Payload: new Uint8Array(0) } },
    { type: MessageType.Suspect, body: { Incarnation: 1, Node: f1.name, From: f2.name } },
    {
      type: MessageType.Alive,
      body: {
        Incarnation: 1,
        Node: f2.name,
        Addr: LOOPBACK,
        Port: f2.port,
        Meta: new Uint8Array(0),
        Vsn: VSN,
      },
    },
    { type: MessageType.Dead, body: { Incarnation: 1, Node: f2.name, From: f1.name } },
  ] as Message[];
  const encoded = msgs.map((x) => encodeMessage(x));
  return [
    ...encoded.map((e) => encodePacketMessages([e])),
    encodePacketMessages(encoded.slice(0, 4)),
    encodePacketMessages(encoded, { compress: true }),
  ];
}

function memberlistStreams(m: readonly Member[]): Uint8Array[] {
  const nodes = m.map((x) => ({
    Name: x.name,
    Addr: LOOPBACK,
    Port: x.port,
    Meta: new Uint8Array(0),
    Incarnation: 1,
    State: NodeStateType.Alive,
    Vsn: VSN,
  }));
  const msgs: StreamMessage[] = [
    { type: MessageType.PushPull, join: false, nodes, userState: new Uint8Array(0) },
    { type: MessageType.User, payload: Buffer.from('fuzz') },
    { type: MessageType.Ping, body: { SeqNo: 9, Node: m[0]!.name } },
  ] as StreamMessage[];
  return [
    ...msgs.map((x) => encodeStreamMessage(x)),
    ...msgs.map((x) => encodeStreamMessage(x, { compress: true })),
  ];
}

/**
 * `[0x50 'P'][version, unsealed][name length][name]` (libs/cluster/src/transport/frame-handshake.ts),
 * the version spoken now: claiming `f1`, a member, from its own address, the mutated frames
 * after it reach the frame parsers.
 */
function preamble(name: string): Buffer {
  const n = Buffer.from(name, 'utf8');
  return Buffer.concat([
    Buffer.of(PLUMTREE_STREAM_FIRST_BYTE, FRAME_PROTOCOL_VERSION, n.length),
    n,
  ]);
}

function framed(frames: readonly Uint8Array[]): Buffer {
  return Buffer.concat(
    frames.flatMap((f) => {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(f.length);
      return [h, f];
    }),
  );
}

function frameStreams(m: readonly Member[]): Uint8Array[] {
  // Never a real member's origin: a forged id must not shadow a real message.
  const id = { origin: 'fz-origin', epoch: 5, seq: 1 };
  const gossip: GossipMessage = {
    type: FrameType.Gossip,
    topic: TOPIC,
    id,
    hops: 1,
    publishedAtMs: 0,
    headers: { h: 'v' },
    payload: Buffer.from('forged'),
  };
  const frames = [
    encodeFrame(gossip),
    encodeFrame({ type: FrameType.IHave, topic: TOPIC, entries: [{ id, hops: 1, count: 3 }] }),
    encodeFrame({ type: FrameType.Graft, topic: TOPIC, ids: [id] }),
    encodeFrame({ type: FrameType.Prune, topic: TOPIC }),
    encodeHandoffRequest(gossip),
  ];
  return [m[1]!.name, 'mallory'].flatMap((name) => [
    Buffer.concat([preamble(name), framed(frames)]),
    ...frames.map((f) => Buffer.concat([preamble(name), framed([f])])),
  ]);
}

/** First bytes the node dispatches on: memberlist's message types 0-13, the label header, 'P'. */
const DISPATCH_BYTES = [...Array.from({ length: 14 }, (_, i) => i), 244, 0x50];

function inputArb(templates: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1024 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...DISPATCH_BYTES), fc.uint8Array({ maxLength: 1024 }))
        .map(([b, rest]) => Buffer.concat([Buffer.of(b), rest])),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(...templates), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
        .map(([t, muts]) => mutate(t, muts)),
    },
  );
}

/** `count` inputs drawn in batches (batch `i` seeded `SEED + i`), so they never all sit in memory. */
function* inputs(
  arb: fc.Arbitrary<Uint8Array>,
  count: number,
  salt: number,
): Generator<Uint8Array> {
  const BATCH = 1_000;
  for (let i = 0; i * BATCH < count; i++) {
    const n = Math.min(BATCH, count - i * BATCH);
    yield* fc.sample(arb, { numRuns: n, seed: SEED + salt + i });
  }
}

// ---- the attacker ----

/** Sends one stream on its own connection; resolves once the connection is closed. */
function sendStream(port: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const hold = setTimeout(() => sock.destroy(), CONNECTION_HOLD_MS);
    sock.on('error', () => undefined);
    sock.on('data', () => undefined);
    sock.on('close', () => {
      clearTimeout(hold);
      resolve();
    });
    sock.once('connect', () => sock.end(bytes));
  });
}

/** Sends packets, yielding to the loop every few so the kernel's buffers are not overrun. */
async function sendPackets(
  udp: UdpSocket,
  port: number,
  packets: Iterable<Uint8Array>,
): Promise<void> {
  let n = 0;
  for (const p of packets) {
    await new Promise<void>((resolve) => udp.send(p, port, '127.0.0.1', () => resolve()));
    if (++n % 64 === 0) await new Promise<void>((r) => setImmediate(r));
  }
}

const sum = (o: Readonly<Record<string, number>> | undefined): number =>
  Object.values(o ?? {}).reduce((a, b) => a + b, 0);

describe('random and mutated bytes on the TCP and UDP ports', () => {
  const agents: AgentProcess[] = [];
  const savedNodeOptions = process.env['NODE_OPTIONS'];

  beforeAll(async () => {
    // The agents collect before each `memory` sample, so it shows what is retained.
    process.env['NODE_OPTIONS'] = `${savedNodeOptions ?? ''} --expose-gc`.trim();
    try {
      const opts = { kind: 'ours' as const, httpToken: TOKEN, extraArgs: ['--topics', TOPIC] };
      const f0 = await AgentProcess.startReady(repoRoot, { ...opts, name: 'f0' }, 30_000);
      agents.push(f0);
      for (const name of ['f1', 'f2']) {
        agents.push(
          await AgentProcess.startReady(repoRoot, { ...opts, name, join: [f0.addr] }, 30_000),
        );
      }
    } finally {
      if (savedNodeOptions === undefined) delete process.env['NODE_OPTIONS'];
      else process.env['NODE_OPTIONS'] = savedNodeOptions;
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  });

  it(`${(TCP_STREAMS + UDP_PACKETS).toLocaleString('en')} inputs leave f0 alive, its members unchanged, its heap bounded, delivering`, async () => {
    const [f0, f1] = agents as [AgentProcess, AgentProcess, AgentProcess];
    const names = agents.map((a) => a.name).sort();
    const aliveOf = async (a: AgentProcess): Promise<string[] | undefined> =>
      (await a.aliveNames())?.sort();
    await waitFor('three alive members', async () => (await aliveOf(f0))?.join() === names.join(), {
      timeoutMs: 30_000,
    });
    const stats = async (): Promise<PlumtreeNodeStats> =>
      waitForValue(
        'f0 /stats',
        async () => (await f0.getJson('/stats')) as PlumtreeNodeStats | undefined,
      );
    const heapUsed = async (): Promise<number> => {
      const from = f0.events.length;
      f0.send('memory');
      const e = await f0.waitForEvent(
        (x) => x.event === 'memory' && f0.events.indexOf(x) >= from,
        10_000,
        'memory line',
      );
      return e.fields['heapUsed'] as number;
    };
    const before = await stats();
    const baseline = await heapUsed();
    const samples: number[] = [];

    const members = agents.map((a) => ({ name: a.name, port: a.options.port }));
    const port = f0.options.port;
    const tcp = inputs(
      inputArb([...memberlistStreams(members), ...frameStreams(members)]),
      TCP_STREAMS,
      0,
    );
    const udpIn = inputs(inputArb(udpTemplates(members)), UDP_PACKETS, 1_000_000);
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const t0 = performance.now();
    try {
      // In rounds of SAMPLE_EVERY inputs (half on each port), the heap sampled after each round.
      const perRound = SAMPLE_EVERY / 2;
      for (let sent = 0; sent < Math.max(TCP_STREAMS, UDP_PACKETS); sent += perRound) {
        const roundTcp: Uint8Array[] = [];
        const roundUdp: Uint8Array[] = [];
        for (let i = 0; i < perRound; i++) {
          const t = tcp.next();
          if (!t.done) roundTcp.push(t.value);
          const u = udpIn.next();
          if (!u.done) roundUdp.push(u.value);
        }
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < roundTcp.length) await sendStream(port, roundTcp[next++]!);
        };
        await Promise.all([
          ...Array.from({ length: CONCURRENCY }, worker),
          sendPackets(udp, port, roundUdp),
        ]);
        samples.push(await heapUsed());
        expect(f0.exitStatus).toBeUndefined();
      }
    } finally {
      udp.close();
    }
    const sendMs = performance.now() - t0;

    // Alive, and back to exactly the real members once phantoms died and refutations spread.
    // Each phantom dies only after f0 has probed it and its suspicion ran out, one member per probe
    // period, the period stretched by Lifeguard's awareness while probes of phantoms fail: 17-20
    // phantoms settled in 33-65 s, and a CI-like run with about 30 did not settle in 90 s. The
    // bound allows about 70; a phantom that never dies still fails the test.
    expect((await f0.httpFetch('/health')).status).toBe(200);
    const seen = new Set<string>();
    /** f0's last member rows that are not dead, for the timeout's message: which phantom stayed. */
    let notDead = '';
    await waitFor(
      'f0 to list exactly f0, f1, f2 alive',
      async () => {
        const rows = (await f0.members()) ?? [];
        for (const r of rows) seen.add(r.name);
        notDead = rows
          .filter((r) => r.state !== 'dead')
          .map(
            (r) =>
              `${JSON.stringify(r.name)} ${r.state} at ${r.addr} inc ${String(r.incarnation)}`,
          )
          .join('; ');
        return (await aliveOf(f0))?.join() === names.join();
      },
      {
        timeoutMs: 240_000,
        intervalMs: 250,
        lastSeen: () => `not dead: ${notDead}\n  every name seen: ${[...seen].join(',')}`,
      },
    );
    const settleMs = performance.now() - t0 - sendMs;
    const after = await stats();
    const phantoms = [...seen].filter((n) => !names.includes(n));

    // Still delivering: a publish of f1 reaches f0's subscriber.
    f1.send(`publish ${TOPIC} after-fuzz`);
    await f0.waitForEvent(
      (e) => e.event === 'message' && e.data === 'after-fuzz',
      30_000,
      'delivery',
    );

    const growth = Math.max(...samples) - baseline;
    const mib = (b: number): string => (b / 1024 / 1024).toFixed(1);
    const swimDrops = after.swim.droppedTotal - before.swim.droppedTotal;
    const frameDrops =
      sum(after.transport.drops) +
      sum(after.node.frameDrops) -
      sum(before.transport.drops) -
      sum(before.node.frameDrops);
    process.stdout.write(
      `fuzz-ports (seed ${SEED.toString()}): ${TCP_STREAMS.toString()} TCP streams + ${UDP_PACKETS.toString()} UDP packets in ${(sendMs / 1000).toFixed(1)} s; ` +
        `f0 heap baseline ${mib(baseline)} MiB, samples ${samples.map(mib).join(' ')} MiB (max growth ${mib(growth)} MiB, bound ${mib(HEAP_GROWTH_BOUND_BYTES)}); ` +
        `drops: swim +${swimDrops.toString()}, frames +${frameDrops.toString()} (${JSON.stringify(after.transport.drops)}); ` +
        `phantom names seen and dead: ${phantoms.length.toString()}, settled ${(settleMs / 1000).toFixed(1)} s after the last input\n`,
    );
    expect(growth).toBeLessThan(HEAP_GROWTH_BOUND_BYTES);
    expect(swimDrops).toBeGreaterThan(0);
    expect(frameDrops).toBeGreaterThan(0);
  });
});
