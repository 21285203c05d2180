import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { createRng } from '@plumtree/common';
import { FrameType, type GossipMessage } from '@plumtree/plumtree';
import {
  HandoffEngine,
  HOLD_TIMEOUT_FACTOR,
  MAX_WAITING_HANDOFFS_PER_PEER,
  type HandoffHost,
} from './handoff.js';
import { NoSubscribersError } from '../node/errors.js';
import { decodeHandoff, HandoffType } from './handoff-codec.js';

const TIMEOUT_MS = 2_000;

/** One node's engine on a fake network; a subscriber's publish window opens when told to. */
interface FakeNode {
  readonly name: string;
  readonly engine: HandoffEngine;
  /** Accepts waiting for the window; `open()` runs them. */
  readonly gate: (() => void)[];
  windowOpen: boolean;
  readonly injected: string[];
  /** Answers this node sent, by type. */
  readonly sent: HandoffType[];
  open(): void;
}

/** `latencyMs`: each frame's trip (0: the next microtask); it may change while the test runs. */
function cluster(
  names: string[],
  subscribers: string[],
  net: { latencyMs: number } = { latencyMs: 0 },
): Map<string, FakeNode> {
  const nodes = new Map<string, FakeNode>();
  const life = { started: true, closed: false, leaving: false, stopping: false };
  for (const name of names) {
    const gate: (() => void)[] = [];
    const injected: string[] = [];
    const sent: HandoffType[] = [];
    const host: HandoffHost = {
      name,
      life,
      rng: createRng(7),
      timeoutMs: TIMEOUT_MS,
      maxAttempts: 3,
      maxInFlight: 4096,
      frameLimits: {},
      maxTopicsPerPeer: 10,
      send: (peer, frame) => {
        const h = decodeHandoff(frame);
        if (h !== null) sent.push(h.type);
        // Delivered later, as a socket would (never re-entrant).
        const deliver = (): void => nodes.get(peer)?.engine.onFrame(name, frame);
        if (net.latencyMs === 0) queueMicrotask(deliver);
        else setTimeout(deliver, net.latencyMs);
        return 'queued';
      },
      subscribersOf: () => subscribers.filter((s) => s !== name),
      acceptsTopic: () => subscribers.includes(name),
      knownTopic: () => true,
      inject: (m) => {
        injected.push(`${m.id.origin}/${m.id.seq.toString()}`);
        return true;
      },
      drive: () => undefined,
      admit: <T>(_bytes: number, accept: () => T): Promise<T> => {
        if (node.windowOpen) return Promise.resolve(accept());
        return new Promise<T>((resolve) => gate.push(() => resolve(accept())));
      },
      countDrop: () => undefined,
    };
    const node: FakeNode = {
      name,
      engine: new HandoffEngine(host),
      gate,
      windowOpen: true,
      injected,
      sent,
      open() {
        this.windowOpen = true;
        for (const run of gate.splice(0)) run();
      },
    };
    nodes.set(name, node);
  }
  return nodes;
}

function message(seq: number): GossipMessage {
  return {
    type: FrameType.Gossip,
    topic: 'orders',
    id: { origin: 'pub', epoch: 1, seq },
    hops: 0,
    publishedAtMs: 0,
    headers: {},
    payload: Uint8Array.of(1, 2, 3),
  };
}

/**
 * Runs timers up to `ms` ahead, letting the fake network's microtasks run in between (the first
 * call settles what is in flight before any timer fires: frames and answers travel as microtasks).
 */
async function advance(ms: number): Promise<void> {
  await jest.advanceTimersByTimeAsync(0);
  await jest.advanceTimersByTimeAsync(ms);
}

describe('HandoffEngine: HOLD while the subscriber waits for its publish window', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('a subscriber admitting at once sends ACK only', async () => {
    const n = cluster(['pub', 's1'], ['s1']);
    const done = n.get('pub')!.engine.handOff(message(1));
    await advance(TIMEOUT_MS);
    await expect(done).resolves.toBe('pub/1/1');
    expect(n.get('s1')!.sent).toEqual([HandoffType.Ack]);
    expect(n.get('pub')!.engine.stats()).toMatchObject({ acked: 1, held: 0, retried: 0 });
  });

  it('a request waiting a quarter of the timeout is held; the publisher waits for that ACK instead of trying another subscriber', async () => {
    const n = cluster(['pub', 's1', 's2'], ['s1', 's2']);
    for (const s of ['s1', 's2']) n.get(s)!.windowOpen = false;
    let settled = false;
    const done = n.get('pub')!.engine.handOff(message(1));
    void done.then(() => (settled = true));
    await advance(TIMEOUT_MS / 4 - 1);
    const [first] = ['s1', 's2'].filter((s) => n.get(s)!.gate.length === 1);
    expect(first).toBeDefined();
    expect(n.get(first!)!.sent).toEqual([]);
    await advance(1);
    expect(n.get(first!)!.sent).toEqual([HandoffType.Hold]);
    // Ten timeouts later: still with the first subscriber, nothing sent to the other.
    await advance(10 * TIMEOUT_MS);
    expect(settled).toBe(false);
    const other = first === 's1' ? 's2' : 's1';
    expect(n.get(other)!.gate.length).toBe(0);
    expect(n.get('pub')!.engine.stats()).toMatchObject({ sent: 1, held: 1, retried: 0 });
    expect(n.get(first!)!.engine.stats()).toMatchObject({ holdsSent: 1 });
    n.get(first!)!.open();
    await advance(0);
    await expect(done).resolves.toBe('pub/1/1');
    expect(n.get(first!)!.injected).toEqual(['pub/1']);
    expect(n.get(first!)!.sent).toEqual([HandoffType.Hold, HandoffType.Ack]);
  });

  it('a held attempt moves on when its subscriber goes down', async () => {
    const n = cluster(['pub', 's1', 's2'], ['s1', 's2']);
    for (const s of ['s1', 's2']) n.get(s)!.windowOpen = false;
    const done = n.get('pub')!.engine.handOff(message(2));
    await advance(TIMEOUT_MS / 2);
    const first = ['s1', 's2'].find((s) => n.get(s)!.gate.length === 1)!;
    const other = first === 's1' ? 's2' : 's1';
    expect(n.get('pub')!.engine.stats().held).toBe(1);
    n.get('pub')!.engine.peerDown(first);
    await advance(0);
    expect(n.get(other)!.gate.length).toBe(1);
    n.get(other)!.open();
    await advance(0);
    await expect(done).resolves.toBe('pub/1/2');
    expect(n.get('pub')!.engine.stats()).toMatchObject({ retried: 1, acked: 1, failed: 0 });
  });

  it(`a held attempt gives up after ${HOLD_TIMEOUT_FACTOR.toString()} timeouts, and a retried id is acknowledged by whoever injects it`, async () => {
    const n = cluster(['pub', 's1', 's2'], ['s1', 's2']);
    for (const s of ['s1', 's2']) n.get(s)!.windowOpen = false;
    const done = n.get('pub')!.engine.handOff(message(3));
    await advance(TIMEOUT_MS / 2);
    const first = ['s1', 's2'].find((s) => n.get(s)!.gate.length === 1)!;
    const other = first === 's1' ? 's2' : 's1';
    // Held at TIMEOUT_MS / 4; given up HOLD_TIMEOUT_FACTOR timeouts after that.
    await advance(HOLD_TIMEOUT_FACTOR * TIMEOUT_MS - TIMEOUT_MS / 4 - 1);
    expect(n.get(other)!.gate.length).toBe(0);
    await advance(1);
    expect(n.get(other)!.gate.length).toBe(1);
    n.get(other)!.open();
    await advance(0);
    await expect(done).resolves.toBe('pub/1/3');
    expect(n.get('pub')!.engine.stats()).toMatchObject({ held: 1, retried: 1, acked: 1 });
  });

  it('holds each waiting request once, and none after it was admitted', async () => {
    const n = cluster(['pub', 's1'], ['s1']);
    const s1 = n.get('s1')!;
    s1.windowOpen = false;
    const all = [1, 2, 3].map((seq) => n.get('pub')!.engine.handOff(message(seq)));
    await advance(TIMEOUT_MS / 8);
    s1.open();
    s1.windowOpen = false;
    const late = n.get('pub')!.engine.handOff(message(4));
    await advance(TIMEOUT_MS);
    expect(s1.sent.filter((t) => t === HandoffType.Hold).length).toBe(1);
    s1.open();
    await advance(0);
    await Promise.all([...all, late]);
    expect(s1.injected).toEqual(['pub/1', 'pub/2', 'pub/3', 'pub/4']);
    expect(n.get('pub')!.engine.stats()).toMatchObject({ acked: 4, held: 1, retried: 0 });
  });

  it('the attempt clock follows the answer time (RFC 6298): subscribers slow to answer are not sent the message again', async () => {
    const net = { latencyMs: 0 };
    const n = cluster(['pub', 's1', 's2'], ['s1', 's2'], net);
    const pub = n.get('pub')!.engine;
    expect(pub.stats().attemptTimeoutMs).toBe(TIMEOUT_MS);
    // Fast answers keep it at handoffTimeoutMs.
    for (let seq = 1; seq <= 5; seq++) {
      const done = pub.handOff(message(seq));
      await advance(0);
      await done;
    }
    expect(pub.stats().attemptTimeoutMs).toBe(TIMEOUT_MS);
    // A saturated machine: answers take 1.8 s (0.9 s each way), just under the floor.
    net.latencyMs = 900;
    for (let seq = 6; seq <= 10; seq++) {
      const done = pub.handOff(message(seq));
      await advance(1_800);
      await done;
    }
    const grown = pub.stats().attemptTimeoutMs;
    expect(grown).toBeGreaterThan(TIMEOUT_MS);
    // Then answers take 2.4 s, over handoffTimeoutMs: still one attempt each, no retry.
    net.latencyMs = 1_200;
    const done = pub.handOff(message(11));
    await advance(2_400);
    await done;
    expect(pub.stats()).toMatchObject({ acked: 11, retried: 0, failed: 0 });
    expect(n.get('s1')!.injected.length + n.get('s2')!.injected.length).toBe(11);
  });

  it('the attempt clock stays within [handoffTimeoutMs, HOLD_TIMEOUT_FACTOR x handoffTimeoutMs], and a retried attempt is no sample', async () => {
    const net = { latencyMs: 0 };
    const n = cluster(['pub', 's1', 's2'], ['s1', 's2'], net);
    const pub = n.get('pub')!.engine;
    // An answer slower than the clock: the first attempt times out, the retry is answered.
    net.latencyMs = 1_500;
    const done = pub.handOff(message(1));
    await advance(TIMEOUT_MS + 3_000);
    await done;
    // The timeout doubled the clock (Karn), and the retried message's answer was no sample.
    expect(pub.stats()).toMatchObject({ retried: 1, acked: 1, attemptTimeoutMs: 2 * TIMEOUT_MS });
    // Answers that keep taking 90 % of the clock grow it, up to the cap and no further.
    const cap = HOLD_TIMEOUT_FACTOR * TIMEOUT_MS;
    for (let seq = 2; seq < 200 && pub.stats().attemptTimeoutMs < cap; seq++) {
      const answerMs = Math.floor(0.9 * pub.stats().attemptTimeoutMs);
      net.latencyMs = answerMs / 2;
      const done = pub.handOff(message(seq));
      await advance(answerMs);
      await done;
    }
    expect(pub.stats().attemptTimeoutMs).toBe(cap);
    expect(pub.stats()).toMatchObject({ retried: 1, failed: 0 });
  });

  it('attempts that run out on the same clock double it once, not once each', async () => {
    const net = { latencyMs: 5_000 };
    const n = cluster(['pub', 's1', 's2', 's3'], ['s1', 's2', 's3'], net);
    const pub = n.get('pub')!.engine;
    const all = Array.from({ length: 10 }, (_, i) => pub.handOff(message(i + 1)));
    await advance(TIMEOUT_MS);
    expect(pub.stats()).toMatchObject({ retried: 10, attemptTimeoutMs: 2 * TIMEOUT_MS });
    // The retries wait 4 s, run out too, and double it again; the third attempts wait 8 s, long
    // enough for the first subscribers' answers (10 s after the first send).
    await advance(2 * TIMEOUT_MS);
    expect(pub.stats()).toMatchObject({ retried: 20, attemptTimeoutMs: 4 * TIMEOUT_MS });
    await advance(10_000);
    await Promise.all(all);
    expect(pub.stats()).toMatchObject({ acked: 10, failed: 0 });
  });

  it('out of attempts while a subscriber that has the request is up, it waits for a late ACK; up to the cap', async () => {
    const net = { latencyMs: 5_000 };
    const n = cluster(['pub', 's1', 's2'], ['s1', 's2'], net);
    const pub = n.get('pub')!.engine;
    // Both attempts run out (2 s, then 4 s); the first subscriber's ACK comes 10 s after it.
    const late = pub.handOff(message(1));
    await advance(TIMEOUT_MS + 2 * TIMEOUT_MS);
    expect(pub.stats()).toMatchObject({ retried: 1, lateWaits: 1, failed: 0 });
    await advance(10_000 - 3 * TIMEOUT_MS);
    await expect(late).resolves.toBe('pub/1/1');
    // Answers that never come: rejected HOLD_TIMEOUT_FACTOR timeouts after the first attempt.
    net.latencyMs = 1_000_000;
    let outcome: unknown;
    const never = pub.handOff(message(2)).catch((e: unknown) => (outcome = e));
    await advance(HOLD_TIMEOUT_FACTOR * TIMEOUT_MS - 1);
    expect(outcome).toBeUndefined();
    await advance(1);
    await never;
    expect(outcome).toBeInstanceOf(NoSubscribersError);
    expect(pub.stats()).toMatchObject({ lateWaits: 2, failed: 1 });
  });

  it('waiting for a late ACK, it rejects once no subscriber that had the request is up', async () => {
    const subscribers = ['s1', 's2'];
    const n = cluster(['pub', 's1', 's2'], subscribers, { latencyMs: 1_000_000 });
    const pub = n.get('pub')!.engine;
    let outcome: unknown;
    const p = pub.handOff(message(1)).catch((e: unknown) => (outcome = e));
    await advance(3 * TIMEOUT_MS);
    expect(pub.stats()).toMatchObject({ retried: 1, lateWaits: 1 });
    // One of the two goes down: the other may still answer.
    subscribers.splice(subscribers.indexOf('s1'), 1);
    pub.peerDown('s1');
    await advance(0);
    expect(outcome).toBeUndefined();
    // The other one too: nobody has it any more.
    subscribers.length = 0;
    pub.peerDown('s2');
    await p;
    expect(outcome).toBeInstanceOf(NoSubscribersError);
    expect(pub.stats()).toMatchObject({ lateWaits: 1, failed: 1 });
  });

  it(`keeps at most ${MAX_WAITING_HANDOFFS_PER_PEER.toString()} of one sender's requests waiting for the window; NACKs the rest`, async () => {
    const n = cluster(['pub', 's1'], ['s1']);
    const s1 = n.get('s1')!;
    s1.windowOpen = false;
    const outcomes: Promise<unknown>[] = [];
    for (let seq = 1; seq <= MAX_WAITING_HANDOFFS_PER_PEER + 1; seq++) {
      outcomes.push(
        n
          .get('pub')!
          .engine.handOff(message(seq))
          .catch((e: unknown) => e),
      );
    }
    await advance(0);
    expect(s1.gate.length).toBe(MAX_WAITING_HANDOFFS_PER_PEER);
    expect(s1.engine.stats()).toMatchObject({ waitingRefused: 1, nacked: 1 });
    // The refused one had nobody else to go to.
    await expect(outcomes.at(-1)).resolves.toBeInstanceOf(NoSubscribersError);
    // Once the window admits them, the sender's requests are taken again.
    s1.open();
    await advance(0);
    s1.windowOpen = false;
    outcomes.push(n.get('pub')!.engine.handOff(message(5_000)));
    await advance(0);
    expect(s1.gate.length).toBe(1);
    expect(s1.engine.stats().waitingRefused).toBe(1);
    s1.open();
    await advance(0);
    await Promise.all(outcomes);
    expect(s1.injected.length).toBe(MAX_WAITING_HANDOFFS_PER_PEER + 1);
  });
});
