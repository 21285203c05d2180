/**
 * Plumtree frame codec throughput, measured in one run with performance.now():
 * encode, decode, and the forwarding fast path (patch hops in place, no re-encode) for GOSSIP
 * frames with a 1 KiB payload, plus IHAVE frames.
 *
 *   npm run build && node dist/apps/bench/src/codec/main.js [--seconds 1]
 *
 * Figures drift on a shared machine; compare rows of the same run.
 */
import { performance } from 'node:perf_hooks';
import {
  FrameType,
  type GossipMessage,
  type IHaveMessage,
} from '../../../../libs/plumtree/src/types.js';
import {
  decodeFrame,
  encodeFrame,
  patchGossipHops,
  peekTopic,
  readGossipHops,
} from '../../../../libs/plumtree/src/wire/index.js';

const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 1;

interface Row {
  readonly name: string;
  readonly frameBytes: number;
  readonly ops: number;
  readonly ms: number;
}

/**
 * Run `op` in batches until `SECONDS` have passed (after a warm-up of a quarter of that), and
 * return how many calls ran in how long. `op` returns a number so the work is not optimised
 * away; the sum is printed.
 */
function measure(name: string, frameBytes: number, op: (i: number) => number): Row {
  const batch = 1_000;
  let sink = 0;
  const run = (budgetMs: number): { ops: number; ms: number } => {
    const start = performance.now();
    let ops = 0;
    let now = start;
    while (now - start < budgetMs) {
      for (let i = 0; i < batch; i++) sink += op(ops + i);
      ops += batch;
      now = performance.now();
    }
    return { ops, ms: now - start };
  };
  run(SECONDS * 250);
  const { ops, ms } = run(SECONDS * 1000);
  if (sink === Number.MIN_VALUE) console.log(sink); // keeps `sink` alive
  return { name, frameBytes, ops, ms };
}

function gossip(seq: number, headers?: Record<string, string>): GossipMessage {
  return {
    type: FrameType.Gossip,
    topic: 'orders.created',
    id: { origin: 'node-07.eu-west-1', epoch: 1_764_000_000_123, seq },
    hops: 1,
    publishedAtMs: 1_764_000_000_456 + seq,
    ...(headers ? { headers } : {}),
    payload: payloads[seq & 7]!,
  };
}

const payloads = Array.from({ length: 8 }, (_, k) => new Uint8Array(1024).fill(k));
const plain = Array.from({ length: 1024 }, (_, i) => gossip(i + 1));
const withHeaders = Array.from({ length: 1024 }, (_, i) =>
  gossip(i + 1, {
    'content-type': 'application/json',
    traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
  }),
);
const ihave: IHaveMessage = {
  type: FrameType.IHave,
  topic: 'orders.created',
  entries: Array.from({ length: 16 }, (_, i) => ({
    id: { origin: 'node-07.eu-west-1', epoch: 1_764_000_000_123, seq: 1000 + i },
    hops: 2,
  })),
};

const plainFrames = plain.map(encodeFrame);
const headerFrames = withHeaders.map(encodeFrame);
const ihaveFrame = encodeFrame(ihave);
const mask = 1023;
const badFrame = plainFrames[0]!.slice();
badFrame[6] = 0xff; // inside the topic "orders.created"

/** The `encode <what>` row, then the `decode <what>` row, over `messages` and their `frames`. */
function encodeThenDecode(
  what: string,
  messages: readonly GossipMessage[],
  frames: readonly Uint8Array[],
): [Row, Row] {
  const bytes = frames[0]!.length;
  const encode = measure(`encode ${what}`, bytes, (i) => encodeFrame(messages[i & mask]!).length);
  const decode = measure(`decode ${what}`, bytes, (i) =>
    decodeFrame(frames[i & mask]!).ok ? 1 : 0,
  );
  return [encode, decode];
}

const copyTarget = new Uint8Array(1077);
const rows: Row[] = [
  // Context for the rows below on a shared machine: the cost of touching 1 KiB at all.
  measure('baseline: copy 1 KiB payload', 1024, (i) => {
    copyTarget.set(payloads[i & 7]!, 53);
    return copyTarget[60]!;
  }),
  measure('baseline: new Uint8Array(1077)', 1077, () => new Uint8Array(1077).length),
  ...encodeThenDecode('GOSSIP 1 KiB', plain, plainFrames),
  ...encodeThenDecode('GOSSIP 1 KiB + 2 headers', withHeaders, headerFrames),
  measure('forward: read + patch hops', plainFrames[0]!.length, (i) => {
    const f = plainFrames[i & mask]!;
    const h = readGossipHops(f)!;
    patchGossipHops(f, (h + 1) & 0xff);
    return h;
  }),
  // What a flood of garbage costs: a frame whose topic is not UTF-8 (rejected without a throw).
  measure('decode rejected: bad UTF-8 topic', badFrame.length, () => {
    const r = decodeFrame(badFrame);
    return r.ok ? 1 : 0;
  }),
  measure('peekTopic', plainFrames[0]!.length, (i) => peekTopic(plainFrames[i & mask]!)!.length),
  measure('encode IHAVE x16', ihaveFrame.length, () => encodeFrame(ihave).length),
  measure('decode IHAVE x16', ihaveFrame.length, () => {
    const r = decodeFrame(ihaveFrame);
    return r.ok ? 1 : 0;
  }),
];

console.log(`Plumtree frame codec, Node ${process.version}, ${SECONDS} s per row after warm-up`);
console.log(
  [
    'operation'.padEnd(34),
    'frame B'.padStart(8),
    'frames/s'.padStart(12),
    'MB/s'.padStart(9),
    'ns/frame'.padStart(9),
  ].join(' '),
);
for (const r of rows) {
  const perSec = (r.ops / r.ms) * 1000;
  console.log(
    [
      r.name.padEnd(34),
      String(r.frameBytes).padStart(8),
      Math.round(perSec).toLocaleString('en-US').padStart(12),
      ((perSec * r.frameBytes) / 1e6).toFixed(1).padStart(9),
      ((r.ms * 1e6) / r.ops).toFixed(0).padStart(9),
    ].join(' '),
  );
}
