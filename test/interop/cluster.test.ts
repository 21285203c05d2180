// Interop, issue 3: Go memberlist nodes (test/go/peer, Debian's memberlist 0.2.2) and our agents
// (`plumtree agent`, apps/cli/dist) in one cluster on 127.0.0.1, both on memberlist's
// DefaultLocalConfig timers (`--profile local`). Every wait is bounded polling on the agents' JSON
// lines or `GET /members`; the failure-detection waits are bounded by memberlist's suspicion bound
// (detectionBoundMs). A Go-only cluster runs the same checks first as the control: when it passes
// and a mixed one fails, the failure is on our side. Needs: apt-get install golang-go
// golang-github-hashicorp-memberlist-dev.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import {
  detectionBoundMs,
  LOCAL_TIMERS,
  type AgentKind,
  type AgentProcess,
} from '../../apps/bench/src/swim/agent-process.js';
import {
  allObserve,
  broadcastUntilReceived,
  buildAgents,
  expectNeverDuring,
  expectAllAlive,
  killAll,
  startAgent,
  startCluster,
  testKey,
  wireSum,
  type MemberSpec,
} from './support/interop-cluster.js';

const FORM_MS = 60_000;
const MESSAGE_MS = 15_000;
/**
 * A graceful leave is one dead message (From = Node) gossiped a retransmit-limited number of times,
 * also to the recently dead, so in memberlist it can miss a member; that member then gets it from
 * the next push-pull (15 s in DefaultLocalConfig), before its own suspicion of the gone node (at
 * least 3 s, up to 18 s) runs out, or times the leaver out as failed. Ours also sends it directly to
 * the alive members. The leave runs before the kills, so fewer copies are spent on dead members.
 * The bound covers a push-pull or the longest suspicion, whichever comes first.
 */
const LEAVE_MS =
  15_000 + LOCAL_TIMERS.suspicionMaxTimeoutMult * LOCAL_TIMERS.suspicionMult * 1_000 + 5_000;
const TEST_MS = 90_000;
/** Broadcast retries: a user broadcast reaches a random few members (see broadcastUntilReceived). */
const BROADCAST_RETRY = { attempts: 8, perAttemptMs: 2_000 };
/** How long a wrong-key node is watched: several probe and push-pull-on-join rounds. */
const INTRUDER_WINDOW_MS = 5 * LOCAL_TIMERS.probeIntervalMs;

/**
 * A Go member can miss every gossiped copy of a death (memberlist sends it retransmitLimit = 2
 * times here, to random members that include the recently dead), find it by its own probe and wait
 * out a suspicion nobody confirms any more: up to the bound and a little past it (measured 22.2 s
 * against 24.2 s). Go observers get one push-pull interval more, and their times are printed; ours
 * are held to the bound.
 */
const GO_LAGGARD_SLACK_MS = 15_000;

/** Every observer of ours saw the event within `boundMs` (times as returned by allObserve). */
function expectOursWithin(
  observers: readonly AgentProcess[],
  times: Map<string, number>,
  boundMs: number,
): void {
  for (const a of observers.filter((o) => o.kind === 'ours')) {
    const ms = times.get(a.name);
    expect({ at: a.name, ms, withinBound: ms !== undefined && ms <= boundMs }).toEqual({
      at: a.name,
      ms,
      withinBound: true,
    });
  }
}

/** Measured figures, printed once at the end for the report. */
const figures: string[] = [];

interface SuiteOptions {
  readonly title: string;
  /** Which trio the seed belongs to. */
  readonly seed: 'go' | 'other';
  /** Implementation of the second trio: `ours`, or `go` for the Go-only control. */
  readonly other: AgentKind;
  readonly key?: string;
  /** Check compression and CRC on the wire (not visible when packets are encrypted). */
  readonly wire?: boolean;
  /** Start one wrong-key node of each kind and check neither is admitted. */
  readonly intruders?: boolean;
}

const fmt = (times: Map<string, number>): string =>
  [...times].map(([n, ms]) => `${n}=${Math.round(ms).toString()}ms`).join(' ');

function defineClusterSuite(s: SuiteOptions): void {
  describe(s.title, () => {
    const goSpecs: MemberSpec[] = ['g1', 'g2', 'g3'].map((name) => ({ kind: 'go', name }));
    const otherSpecs: MemberSpec[] = ['o1', 'o2', 'o3'].map((name) => ({ kind: s.other, name }));
    const names = [...goSpecs, ...otherSpecs].map((m) => m.name);
    let agents: AgentProcess[] = [];
    const byName = (n: string): AgentProcess => {
      const a = agents.find((x) => x.name === n);
      if (a === undefined) throw new Error(`no agent ${n}`);
      return a;
    };
    const go = (): AgentProcess[] => agents.filter((a) => a.name.startsWith('g'));
    const other = (): AgentProcess[] => agents.filter((a) => a.name.startsWith('o'));
    const running = (): AgentProcess[] => agents.filter((a) => a.exitStatus === undefined);

    beforeAll(async () => {
      const order = s.seed === 'go' ? [...goSpecs, ...otherSpecs] : [...otherSpecs, ...goSpecs];
      agents = await startCluster(order, s.key);
    }, FORM_MS);

    afterAll(async () => {
      await killAll();
    });

    it(
      'forms one 6-member cluster: every member lists all 6 alive',
      async () => {
        const t0 = performance.now();
        await expectAllAlive(agents, names, FORM_MS);
        figures.push(
          `${s.title}: all 6 list all 6 alive ${Math.round(performance.now() - t0).toString()} ms after the last ready`,
        );
      },
      TEST_MS,
    );

    it(
      'piggybacked user broadcasts cross both ways',
      async () => {
        const toOther = await broadcastUntilReceived(
          byName('g2'),
          other(),
          (i) => `bcast-g2-${i.toString()}-${s.title}`,
          BROADCAST_RETRY,
        );
        const toGo = await broadcastUntilReceived(
          byName('o2'),
          go(),
          (i) => `bcast-o2-${i.toString()}-${s.title}`,
          BROADCAST_RETRY,
        );
        figures.push(
          `${s.title}: g2's broadcast delivered by ${toOther.receiver.name}, o2's by ${toGo.receiver.name}`,
        );
      },
      TEST_MS,
    );

    it(
      'direct user messages cross both ways',
      async () => {
        const toOther = `direct-g3-to-o1-${s.title}`;
        const toGo = `direct-o3-to-g1-${s.title}`;
        byName('g3').send(`user o1 ${toOther}`);
        byName('o3').send(`user g1 ${toGo}`);
        await byName('o1').waitForEvent(
          (e) => e.event === 'user' && e.data === toOther,
          MESSAGE_MS,
          `user message from g3 (go)`,
        );
        await byName('g1').waitForEvent(
          (e) => e.event === 'user' && e.data === toGo,
          MESSAGE_MS,
          `user message from o3 (${s.other})`,
        );
      },
      TEST_MS,
    );

    if (s.wire === true) {
      it(
        'compression and CRC (Go defaults) are understood both ways',
        async () => {
          const otherAddrs = other().map((a) => a.addr);
          // Highly compressible payloads: memberlist compresses a packet only if that shrinks it,
          // so the gossip carrying these goes out LZW-compressed inside a CRC frame (protocol 5).
          await broadcastUntilReceived(
            byName('g1'),
            other(),
            (i) => `lzw-g1-${i.toString()}-${'z'.repeat(900)}`,
            BROADCAST_RETRY,
          );
          expect(await wireSum(go(), 'out', otherAddrs, 'compressed')).toBeGreaterThan(0);
          expect(await wireSum(go(), 'out', otherAddrs, 'crc')).toBeGreaterThan(0);
          await broadcastUntilReceived(
            byName('o1'),
            go(),
            (i) => `lzw-o1-${i.toString()}-${'y'.repeat(900)}`,
            BROADCAST_RETRY,
          );
          const fromOther = {
            crc: await wireSum(go(), 'in', otherAddrs, 'crc'),
            compressed: await wireSum(go(), 'in', otherAddrs, 'compressed'),
          };
          figures.push(
            `${s.title}: Go peers received from the ${s.other} trio ${fromOther.crc.toString()} CRC packets, ${fromOther.compressed.toString()} compressed`,
          );
          expect(fromOther.crc).toBeGreaterThan(0);
          expect(fromOther.compressed).toBeGreaterThan(0);
        },
        TEST_MS,
      );
    }

    if (s.intruders === true) {
      it(
        'a node with a wrong key is never admitted (stays alone; nobody lists it)',
        async () => {
          const wrong = testKey(0x5a);
          // Each intruder knocks on the other implementation.
          const badGo = await startAgent('go', 'bad-go', { join: [byName('o1').addr], key: wrong });
          // Ours keeps trying to join while refused and exits 1 once its join timeout ran out,
          // without ever printing `ready`.
          const badOther = await startAgent(s.other, 'bad-other', {
            join: [byName('g1').addr],
            key: wrong,
            ...(s.other === 'ours'
              ? { extraArgs: ['--join-timeout-ms', String(INTRUDER_WINDOW_MS)], awaitReady: false }
              : {}),
          });
          // The Go intruder reports its failed join; that bounds when its attempt is over.
          await badGo.waitForEvent(
            (e) => e.event === 'join-error' || e.event === 'joined',
            FORM_MS,
            'the end of its join attempt',
          );
          expect(badGo.events.some((e) => e.event === 'joined')).toBe(false);
          // Watch for as long as an admitted node takes to reach everyone (formation converges
          // within a second or two): nobody may list an intruder, and each stays alone.
          await expectNeverDuring(async () => {
            for (const a of agents) {
              const rows = (await a.members()) ?? [];
              const listed = rows.filter((r) => r.name.startsWith('bad')).map((r) => r.name);
              if (listed.length > 0) return `${a.name} (${a.kind}) lists ${listed.join(', ')}`;
              const ev = a.events.find((e) => e.node?.startsWith('bad') === true);
              if (ev !== undefined) return `${a.name} (${a.kind}) printed ${JSON.stringify(ev)}`;
            }
            for (const bad of [badGo, badOther]) {
              const alive = await bad.aliveNames();
              if (alive !== undefined && alive.join(',') !== bad.name) {
                return `${bad.name} (${bad.kind}) lists alive ${alive.join(', ')}`;
              }
            }
            return undefined;
          }, INTRUDER_WINDOW_MS);
          if (s.other === 'ours') {
            expect(await badOther.exited).toBe(1);
            expect(badOther.events.some((e) => e.event === 'ready')).toBe(false);
            expect(badOther.stderrTail).toContain('failed to join any seed');
          }
          await Promise.all([badGo.stop('SIGKILL'), badOther.stop('SIGKILL')]);
        },
        TEST_MS,
      );
    }

    it(
      `graceful leave (SIGTERM) of o2 (${s.other}) exits 0 and shows as left on the Go side`,
      async () => {
        const leaver = byName('o2');
        const t0 = performance.now();
        expect(await leaver.stop('SIGTERM')).toBe(0);
        const exitMs = Math.round(performance.now() - t0);
        const observers = go().filter((a) => a.exitStatus === undefined);
        const times = await allObserve(
          observers,
          (e) => (e.event === 'leave' || e.event === 'fail') && e.node === 'o2',
          LEAVE_MS,
          'leave event for o2',
          t0,
        );
        figures.push(
          `${s.title}: SIGTERM o2 -> exited after ${exitMs.toString()} ms; leave seen: ${fmt(times)}`,
        );
        for (const g of observers) {
          const e = g.events.find(
            (x) => x.node === 'o2' && (x.event === 'leave' || x.event === 'fail'),
          );
          const row = (await g.members())?.find((r) => r.name === 'o2');
          if (s.other === 'go') {
            // The Go-only control: memberlist gossips a leave only retransmitLimit times (2 with
            // DefaultLocalConfig), so a member can miss it and time the leaver out as failed.
            // That is memberlist's behaviour, recorded, not asserted.
            if (e?.event !== 'leave')
              figures.push(`${s.title}: ${g.name} saw o2 ${String(e?.event)}`);
            continue;
          }
          expect({ at: g.name, event: e?.event }).toEqual({ at: g.name, event: 'leave' });
          expect({ at: g.name, state: row?.state }).toEqual({ at: g.name, state: 'left' });
        }
      },
      TEST_MS,
    );
    it(
      'SIGKILL a Go node: every other member marks it dead within the suspicion bound',
      async () => {
        const victim = byName('g3');
        const bound = detectionBoundMs(LOCAL_TIMERS, running().length);
        const t0 = performance.now();
        await victim.stop('SIGKILL');
        const times = await allObserve(
          running(),
          (e) => e.event === 'fail' && e.node === 'g3',
          bound + GO_LAGGARD_SLACK_MS,
          `fail event for g3 (bound ${bound.toString()} ms)`,
          t0,
        );
        expectOursWithin(running(), times, bound);
        figures.push(
          `${s.title}: SIGKILL g3 -> fail seen: ${fmt(times)} (bound ${bound.toString()} ms)`,
        );
        for (const a of running()) expect(await a.aliveNames()).not.toContain('g3');
      },
      TEST_MS,
    );

    it(
      `SIGKILL one of the ${s.other} trio: every Go node marks it dead within the suspicion bound`,
      async () => {
        const victim = byName('o3');
        const bound = detectionBoundMs(LOCAL_TIMERS, running().length);
        const t0 = performance.now();
        await victim.stop('SIGKILL');
        const times = await allObserve(
          running(),
          (e) => e.event === 'fail' && e.node === 'o3',
          bound + GO_LAGGARD_SLACK_MS,
          `fail event for o3 (bound ${bound.toString()} ms)`,
          t0,
        );
        expectOursWithin(running(), times, bound);
        figures.push(
          `${s.title}: SIGKILL o3 -> fail seen: ${fmt(times)} (bound ${bound.toString()} ms)`,
        );
        for (const g of go().filter((a) => a.exitStatus === undefined)) {
          expect(await g.aliveNames()).not.toContain('o3');
        }
      },
      TEST_MS,
    );
  });
}

beforeAll(() => {
  buildAgents(true);
}, 600_000);

afterAll(() => {
  console.log(`interop figures:\n  ${figures.join('\n  ')}`);
});

defineClusterSuite({
  title: 'control: 6 Go nodes',
  seed: 'go',
  other: 'go',
  wire: true,
});
defineClusterSuite({
  title: 'control: 6 Go nodes, 32-byte key',
  seed: 'go',
  other: 'go',
  key: testKey(0x11),
  intruders: true,
});
defineClusterSuite({ title: '3 Go + 3 ours, Go seed', seed: 'go', other: 'ours', wire: true });
defineClusterSuite({ title: '3 Go + 3 ours, our seed', seed: 'other', other: 'ours', wire: true });
defineClusterSuite({
  title: '3 Go + 3 ours, 32-byte key on every node',
  seed: 'go',
  other: 'ours',
  key: testKey(0x11),
  intruders: true,
});
