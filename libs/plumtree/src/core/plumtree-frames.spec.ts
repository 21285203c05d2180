/**
 * Property: for any sequence of inputs to the Plumtree core (commands, peer frames, timeouts),
 * every frame it emits encodes and decodes under the decoder's default limits
 * (`DEFAULT_FRAME_LIMITS`): no peer ever refuses a frame this core built. Inputs that break the
 * format (a topic or header set frames cannot carry) must be refused where they enter, with a
 * `PlumtreeError`, and nothing else may throw.
 *
 * The inputs aim at the limits: IHAVEs announcing thousands of ids (GRAFTs must split at
 * `maxGraftIds`), bursts of broadcasts (IHAVE batches must split at `maxIHaveEntries` and
 * `maxIHaveIds`), GOSSIPs at the hop limit, topics and names at 255 bytes and over.
 */
import { describe, it } from '@jest/globals';
import fc from 'fast-check';
import { createRng } from '@plumtree/common';
import { resolvePlumtreeConfig } from '../config/plumtree-config.js';
import {
  FrameType,
  type GossipMessage,
  type MessageId,
  type PlumtreeMessage,
  type TopicView,
} from '../types.js';
import { decodeFrame, encodeFrame } from '../wire/frame-codec.js';
import { DEFAULT_FRAME_LIMITS } from '../wire/frame-limits.js';
import { PlumtreeError } from './errors.js';
import { Plumtree } from './plumtree.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x0c0_f4a3);
const PEERS = ['b', 'c', 'd', 'e', 'f', 'g'];
const TOPICS = ['t', 'orders', 'x'.repeat(255), 'é'.repeat(128)]; // the last is 256 bytes

function view(peers: readonly string[]): TopicView {
  const set = new Set(peers);
  return { size: peers.length, at: (i) => peers[i], has: (p) => set.has(p) };
}

const peer = fc.constantFrom(...PEERS);
const topic = fc.constantFrom(...TOPICS);
const origin = fc.constantFrom('b', 'c', 'z', 'y'.repeat(255));
const hops = fc.oneof(fc.nat(6), fc.constantFrom(0xfffe, 0xffff));
const id: fc.Arbitrary<MessageId> = fc.record({
  origin,
  epoch: fc.constantFrom(0, 7),
  seq: fc.integer({ min: 1, max: 5_000 }),
});
const headers = fc.option(
  fc.oneof(
    fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    // Beyond the decoder's caps: 65 entries, or 16 KiB + 1 of values.
    fc.constant(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']))),
    fc.constant({ big: 'v'.repeat(16 * 1024) }),
  ),
  { nil: undefined },
);
const gossip = (t: string): fc.Arbitrary<GossipMessage> =>
  fc.record({
    type: fc.constant(FrameType.Gossip as const),
    topic: fc.constant(t),
    id,
    hops,
    publishedAtMs: fc.constant(1_764_000_000_000),
    payload: fc.uint8Array({ maxLength: 8 }),
  });

/** A frame a peer may send: anything that decodes under the default limits. */
const peerFrame: fc.Arbitrary<PlumtreeMessage> = topic.chain((t) =>
  fc.oneof(
    gossip(t),
    fc.record({
      type: fc.constant(FrameType.IHave as const),
      topic: fc.constant(t),
      entries: fc.array(
        fc.record({ id, hops: fc.nat(8), count: fc.integer({ min: 1, max: 3_000 }) }),
        { maxLength: 5 },
      ),
    }),
    fc.record({
      type: fc.constant(FrameType.Graft as const),
      topic: fc.constant(t),
      ids: fc.array(id, { maxLength: 8 }),
    }),
    fc.record({ type: fc.constant(FrameType.Prune as const), topic: fc.constant(t) }),
    fc
      .record({ first: id, hops, n: fc.integer({ min: 2, max: 6 }) })
      .map(({ first, hops: h, n }) => ({
        type: FrameType.GossipRun as const,
        topic: t,
        hops: h,
        messages: Array.from({ length: n }, (_, i) => ({
          type: FrameType.Gossip as const,
          topic: t,
          id: { ...first, seq: first.seq + i },
          hops: h,
          publishedAtMs: 0,
          payload: new Uint8Array(1),
        })),
      })),
  ),
);

type Command =
  | { readonly kind: 'subscribe'; readonly topic: string; readonly peers: string[] }
  | { readonly kind: 'unsubscribe'; readonly topic: string }
  | {
      readonly kind: 'broadcast';
      readonly topic: string;
      readonly n: number;
      readonly headers: Record<string, string> | undefined;
    }
  | {
      readonly kind: 'inject';
      readonly topic: string;
      readonly id: MessageId;
      readonly from: string;
    }
  | { readonly kind: 'frame'; readonly from: string; readonly msg: PlumtreeMessage }
  | { readonly kind: 'time'; readonly ms: number }
  | {
      readonly kind: 'peer';
      readonly op: 'down' | 'up' | 'demote' | 'rtt' | 'neighbourDown';
      readonly peer: string;
      readonly topic: string;
    };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('subscribe' as const),
      topic,
      peers: fc.subarray(PEERS),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unsubscribe' as const), topic }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('broadcast' as const),
      topic,
      n: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant(1_500)),
      headers,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('inject' as const), topic, id, from: peer }),
  },
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('frame' as const), from: peer, msg: peerFrame }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('time' as const),
      ms: fc.oneof(fc.nat(300), fc.constant(5_000)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('peer' as const),
      op: fc.constantFrom(
        'down' as const,
        'up' as const,
        'demote' as const,
        'rtt' as const,
        'neighbourDown' as const,
      ),
      peer,
      topic,
    }),
  },
);

const configs = fc.record({
  ihaveBatchSize: fc.constantFrom(1, 8, 1024),
  eagerFanout: fc.constantFrom(1, 3),
  lazyFanout: fc.constantFrom(1, 6),
  flood: fc.boolean(),
  graftMaxRetries: fc.constantFrom(1, 80),
  ihaveRepeats: fc.constantFrom(0, 2),
});

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`property violated: ${what}`);
}

/** Encode every transmit and decode it under the default limits. */
function drainAndCheck(core: Plumtree): void {
  for (let t = core.pollTransmit(); t !== undefined; t = core.pollTransmit()) {
    const bytes = encodeFrame(t.message); // a throw fails the property
    const r = decodeFrame(bytes, DEFAULT_FRAME_LIMITS);
    check(
      r.ok,
      `frame ${FrameType[t.message.type]} decodes: ${r.ok ? '' : JSON.stringify(r.error)}`,
    );
  }
  while (core.pollEvent() !== undefined);
}

/** Run `fn`; a PlumtreeError (input refused where it enters) is fine, anything else is not. */
function refusedOrDone(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof PlumtreeError)) throw e;
  }
}

describe(
  'Plumtree core: every frame it emits decodes under the decoder limits (fast-check, seed ' +
    SEED +
    ')',
  () => {
    it('holds for arbitrary sequences of commands, frames and timeouts (300 sequences)', () => {
      fc.assert(
        fc.property(
          configs,
          fc.array(command, { minLength: 1, maxLength: 40 }),
          (cfg, commands) => {
            const core = new Plumtree({
              self: 'a',
              epoch: 1,
              rng: createRng(1),
              config: resolvePlumtreeConfig({ preset: 'lan', ...cfg }),
            });
            let now = 0;
            for (const c of commands) {
              switch (c.kind) {
                case 'subscribe':
                  refusedOrDone(() => core.subscribe(c.topic, view(c.peers), now));
                  break;
                case 'unsubscribe':
                  core.unsubscribe(c.topic, now);
                  break;
                case 'broadcast':
                  for (let i = 0; i < c.n; i++) {
                    refusedOrDone(() =>
                      core.broadcast(
                        c.topic,
                        new Uint8Array(4),
                        now,
                        c.headers === undefined ? {} : { headers: c.headers },
                      ),
                    );
                  }
                  break;
                case 'inject':
                  refusedOrDone(() =>
                    core.inject(c.topic, c.id, new Uint8Array(2), now, { from: c.from }),
                  );
                  break;
                case 'frame':
                  core.handleMessage(c.from, c.msg, now);
                  break;
                case 'time': {
                  now += c.ms;
                  const due = core.pollTimeout();
                  if (due !== undefined && due <= now) core.handleTimeout(now);
                  break;
                }
                case 'peer':
                  if (c.op === 'down') core.peerDown(c.peer, now);
                  else if (c.op === 'up') core.peerUp(c.peer, now);
                  else if (c.op === 'demote') core.demotePeer(c.topic, c.peer, now);
                  else if (c.op === 'neighbourDown') core.neighbourDown(c.topic, c.peer, now);
                  else core.recordRtt(c.peer, 1);
                  break;
              }
              drainAndCheck(core);
            }
            // Let every timer run out: retries, flushes, maintenance.
            for (let i = 0; i < 200; i++) {
              const due = core.pollTimeout();
              if (due === undefined) break;
              now = Math.max(now, due);
              core.handleTimeout(now);
              drainAndCheck(core);
            }
          },
        ),
        { numRuns: 300, seed: SEED },
      );
    });
  },
);
