import { describe, expect, it } from '@jest/globals';
import { suspicionTimeoutMs } from './formulas.js';
import { SwimTestCluster, type TestNode } from '../../test-support/swim-test-cluster.js';
import type { SwimEvent } from './types.js';

// Several cores on the deterministic in-memory network (libs/swim/test-support/swim-test-cluster.ts), memberlist's
// `local` preset unless said otherwise. Scenarios follow memberlist's memberlist_test.go (join,
// leave, update node, user broadcasts) and the SWIM / Lifeguard papers (crash detection bound,
// refutation under slow outbound packets).

function startCluster(
  n: number,
  seed: number,
  options: { latencyMs?: number } = {},
): SwimTestCluster {
  const cluster = new SwimTestCluster({ seed, ...options });
  for (let i = 0; i < n; i++) {
    cluster.add(`node-${i}`);
    // Nodes start a few ms apart, as real processes do; it also de-synchronises their tickers.
    cluster.runFor(7);
  }
  for (let i = 1; i < n; i++) cluster.join(`node-${i}`, ['node-0']);
  return cluster;
}

function viewsAgree(nodes: readonly TestNode[], expected: Record<string, string>): boolean {
  return nodes.every((n) => {
    for (const [name, state] of Object.entries(expected)) {
      if (n.core.member(name)?.state !== state) return false;
    }
    return true;
  });
}

function allAlive(cluster: SwimTestCluster): Record<string, string> {
  return Object.fromEntries([...cluster.nodes.keys()].map((name) => [name, 'alive']));
}

function eventsOf(node: TestNode, type: SwimEvent['type']): SwimEvent[] {
  return node.events.map((e) => e.event).filter((e) => e.type === type);
}

describe('SWIM cluster (in-memory network)', () => {
  it.each([5, 12, 20])('%i nodes join through one seed and converge', (n) => {
    const cluster = startCluster(n, n);
    const converged = cluster.runUntilTrue(
      () => viewsAgree(cluster.live(), allAlive(cluster)),
      30_000,
    );
    expect(converged).not.toBeNull();
    for (const node of cluster.live()) {
      expect(node.core.numMembers()).toBe(n);
      expect(eventsOf(node, 'join-result').every((e) => (e as { ok: boolean }).ok)).toBe(true);
    }
    // Quiet cluster: nobody suspected anybody, no packet broke the budget.
    cluster.runFor(20_000);
    for (const node of cluster.live()) {
      expect(eventsOf(node, 'member-suspect')).toEqual([]);
      expect(node.core.healthScore).toBe(0);
    }
    expect(cluster.oversizedTransmits).toBe(0);
  });

  it('is deterministic: the same seed replays the same run', () => {
    const trace = (seed: number) => {
      const cluster = startCluster(8, seed);
      cluster.runFor(5_000);
      cluster.crash('node-3');
      cluster.runFor(20_000);
      return [...cluster.nodes.values()].map((n) =>
        n.events.map((e) => `${e.atMs}:${e.event.type}`).join(','),
      );
    };
    expect(trace(42)).toEqual(trace(42));
    expect(trace(42)).not.toEqual(trace(43));
  });

  it('a crashed node is declared dead by every other node within the suspicion bound', () => {
    const n = 10;
    const cluster = startCluster(n, 3);
    cluster.runUntilTrue(() => viewsAgree(cluster.live(), allAlive(cluster)), 30_000);
    cluster.runFor(3_000);
    const crashAt = cluster.now;
    cluster.crash('node-4');
    const cfg = cluster.node('node-0').core.config;
    // Detection: within one probe pass (n - 1 probes, one per interval, plus the probe in flight),
    // then at most the max suspicion timeout; plus some gossip slack.
    const minMs = suspicionTimeoutMs(cfg.suspicionMult, n, cfg.probeIntervalMs);
    const boundMs = n * cfg.probeIntervalMs + cfg.suspicionMaxTimeoutMult * minMs + 2_000;
    const doneAt = cluster.runUntilTrue(
      () =>
        cluster.live().every((x) => ['dead'].includes(x.core.member('node-4')?.state ?? 'gone')),
      boundMs,
    );
    expect(doneAt).not.toBeNull();
    const detection = doneAt! - crashAt;
    // Lifeguard confirmations from independent suspecters should bring it well below the max.
    expect(detection).toBeLessThan(boundMs);
    for (const x of cluster.live()) {
      expect(
        eventsOf(x, 'member-failed').map((e) => (e as { member: { name: string } }).member.name),
      ).toEqual(['node-4']);
    }
    // Nobody else was harmed.
    const others = Object.fromEntries(
      [...cluster.nodes.keys()].filter((k) => k !== 'node-4').map((k) => [k, 'alive']),
    );
    expect(viewsAgree(cluster.live(), others)).toBe(true);
  });

  function slowNodeRun(seed: number, preset: 'lan' | 'local', delayMs: number) {
    // TCP pings off, as when only UDP is congested (with them on, the fallback vouches for it).
    const cluster = new SwimTestCluster({ seed, config: { preset, disableTcpPings: true } });
    for (let i = 0; i < 6; i++) {
      cluster.add(`node-${i}`);
      cluster.runFor(7);
    }
    for (let i = 1; i < 6; i++) cluster.join(`node-${i}`, ['node-0']);
    cluster.runUntilTrue(() => viewsAgree(cluster.live(), allAlive(cluster)), 30_000);
    const slow = cluster.node('node-2');
    const inc0 = slow.core.incarnation;
    slow.outboundDelayMs = delayMs;
    cluster.runFor(60_000);
    const about = (x: TestNode, type: SwimEvent['type']) =>
      eventsOf(x, type).filter((e) => (e as { member: { name: string } }).member.name === 'node-2');
    const others = cluster.live().filter((x) => x !== slow);
    return {
      cluster,
      slow,
      inc0,
      suspicions: others.reduce((sum, x) => sum + about(x, 'member-suspect').length, 0),
      deaths: others.reduce((sum, x) => sum + about(x, 'member-failed').length, 0),
      // Every node that declared it dead later saw it alive again (its refutation won).
      allDeathsUndone: others.every(
        (x) => about(x, 'member-join').length >= about(x, 'member-failed').length,
      ),
    };
  }

  it.each([1, 2, 3, 4, 5])(
    'a node whose outbound UDP is delayed past the probe interval refutes its suspicions (LAN, seed %i)',
    (seed) => {
      // 1.1 s one way: every probe of it fails (the ack comes after the probe interval), so it is
      // suspected again and again; each suspicion reaches it at once and its refutation arrives
      // 1.1 s later, well inside the 4 s minimum suspicion timeout.
      const run = slowNodeRun(seed, 'lan', 1_100);
      expect(run.suspicions).toBeGreaterThan(20);
      expect(run.slow.core.stats.refutes).toBeGreaterThan(5);
      expect(run.slow.core.incarnation).toBeGreaterThan(run.inc0 + 5);
      // memberlist's retransmit limit can let a refutation miss a node (every relay's few sends
      // avoid it), so a rare suspicion times out; the refutation still brings the node back.
      expect(run.deaths / run.suspicions).toBeLessThan(0.15);
      expect(run.allDeathsUndone).toBe(true);
      // Being accused made it doubt its own health (Lifeguard refute penalty).
      expect(eventsOf(run.slow, 'health-score').length).toBeGreaterThan(0);
      // Once the delay is gone everything settles back to alive.
      run.slow.outboundDelayMs = 0;
      const settled = run.cluster.runUntilTrue(
        () => viewsAgree(run.cluster.live(), allAlive(run.cluster)),
        30_000,
      );
      expect(settled).not.toBeNull();
    },
  );

  it('a graceful leave shows as left everywhere, not as a failure', () => {
    const cluster = startCluster(8, 9);
    cluster.runUntilTrue(() => viewsAgree(cluster.live(), allAlive(cluster)), 30_000);
    const leaver = cluster.node('node-5');
    leaver.core.leave(cluster.now);
    cluster.runFor(0);
    const done = cluster.runUntilTrue(() => eventsOf(leaver, 'leave-complete').length > 0, 10_000);
    expect(done).not.toBeNull();
    cluster.crash('node-5'); // shut down after leave, as memberlist's Shutdown
    const others = cluster.live();
    expect(
      cluster.runUntilTrue(
        () => others.every((x) => x.core.member('node-5')?.state === 'left'),
        10_000,
      ),
    ).not.toBeNull();
    cluster.runFor(10_000);
    for (const x of others) {
      expect(
        eventsOf(x, 'member-left').map((e) => (e as { member: { name: string } }).member.name),
      ).toEqual(['node-5']);
      expect(eventsOf(x, 'member-failed')).toEqual([]);
      expect(x.core.numMembers()).toBe(7);
    }
  });

  it('a meta update reaches every node as member-update', () => {
    const cluster = startCluster(10, 11);
    cluster.runUntilTrue(() => viewsAgree(cluster.live(), allAlive(cluster)), 30_000);
    const meta = new TextEncoder().encode('{"topics":"orders"}');
    cluster.node('node-7').core.updateMeta(meta, cluster.now);
    cluster.runFor(0);
    const done = cluster.runUntilTrue(
      () =>
        cluster
          .live()
          .every(
            (x) =>
              new TextDecoder().decode(x.core.member('node-7')!.meta) === '{"topics":"orders"}',
          ),
      10_000,
    );
    expect(done).not.toBeNull();
    for (const x of cluster.live().filter((y) => y.name !== 'node-7')) {
      const updates = eventsOf(x, 'member-update').filter(
        (e) => (e as { member: { name: string } }).member.name === 'node-7',
      );
      expect(updates).toHaveLength(1);
    }
  });

  it('user broadcasts piggyback to every node when receivers re-broadcast them (as serf does)', () => {
    const cluster = startCluster(12, 13);
    cluster.runUntilTrue(() => viewsAgree(cluster.live(), allAlive(cluster)), 30_000);
    cluster.runFor(5_000); // let the join broadcasts drain
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    const seen = new Map<string, Set<string>>();
    // memberlist hands user broadcasts to the delegate and leaves re-broadcast to it: play serf.
    cluster.onEvent = (node, event) => {
      if (event.type !== 'user-message') return;
      const mine = seen.get(node.name) ?? new Set<string>();
      seen.set(node.name, mine);
      const text = decode(event.payload);
      if (mine.has(text)) return;
      mine.add(text);
      node.core.queueBroadcast(event.payload, { name: text });
    };
    const sender = cluster.node('node-3');
    for (const text of ['alpha', 'beta', 'gamma']) {
      seen.set('node-3', (seen.get('node-3') ?? new Set()).add(text));
      sender.core.queueBroadcast(new TextEncoder().encode(text), { name: text });
    }
    const done = cluster.runUntilTrue(
      () => cluster.live().every((x) => seen.get(x.name)?.size === 3),
      10_000,
    );
    expect(done).not.toBeNull();
    // Each broadcast is dropped from every queue after retransmitLimit sends.
    cluster.runFor(10_000);
    for (const x of cluster.live()) expect(x.core.queuedBroadcasts.user).toBe(0);
    expect(cluster.oversizedTransmits).toBe(0);
  });

  it('without re-broadcast a user broadcast reaches at most retransmitLimit x 1 packets worth of nodes', () => {
    const cluster = startCluster(12, 14);
    cluster.runUntilTrue(() => viewsAgree(cluster.live(), allAlive(cluster)), 30_000);
    cluster.runFor(5_000);
    cluster.node('node-0').core.queueBroadcast(Uint8Array.of(1, 2, 3));
    cluster.runFor(10_000);
    const receivers = cluster.live().filter((x) => eventsOf(x, 'user-message').length > 0);
    // local preset: 2 x ceil(log10(13)) = 4 sends of the one broadcast.
    expect(receivers.length).toBeGreaterThan(0);
    expect(receivers.length).toBeLessThanOrEqual(4);
  });

  it('with 10% packet loss a 12-node cluster still converges and declares a crashed node dead', () => {
    const cluster = startCluster(12, 17);
    cluster.dropPacket = (_from, _to, rng) => rng.next() < 0.1;
    expect(
      cluster.runUntilTrue(() => viewsAgree(cluster.live(), allAlive(cluster)), 60_000),
    ).not.toBeNull();
    cluster.crash('node-9');
    expect(
      cluster.runUntilTrue(
        () => cluster.live().every((x) => x.core.member('node-9')?.state === 'dead'),
        60_000,
      ),
    ).not.toBeNull();
    // Indirect probes and the TCP fallback keep false positives from becoming deaths.
    for (const x of cluster.live()) {
      expect(
        eventsOf(x, 'member-failed').map((e) => (e as { member: { name: string } }).member.name),
      ).toEqual(['node-9']);
    }
  });
});
