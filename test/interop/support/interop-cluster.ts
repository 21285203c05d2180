// Helpers of the mixed Go/ours cluster tests: build both agents, start a cluster around a seed,
// wait (bounded polling) for views to converge, and remember every process so none outlives a test.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import {
  AgentProcess,
  freePort,
  type AgentEvent,
  type AgentKind,
} from '../../../apps/bench/src/swim/agent-process.js';
import { waitFor } from '../../support/wait-for.js';

/** Repository root (this file is test/interop/support/). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Builds test/go/bin/peer (from Debian's memberlist) and, when `ours` is set, dist/ with our CLI
 * (`npm run build`): .ci/run runs test:interop without a prior build.
 */
export function buildAgents(ours: boolean): void {
  execFileSync('sh', [`${repoRoot}test/go/build.sh`, 'peer'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 300_000,
  });
  if (ours) {
    execFileSync('npm', ['run', '-s', 'build'], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 600_000,
    });
  }
}

/** Every agent started through {@link startAgent}, so afterAll can kill leftovers. */
const live = new Set<AgentProcess>();

/**
 * Starts one agent on fresh ports and waits for its `ready` line (unless `awaitReady` is false:
 * our agent prints it only once joined).
 */
export async function startAgent(
  kind: AgentKind,
  name: string,
  opts: {
    join?: readonly string[];
    key?: string;
    extraArgs?: readonly string[];
    awaitReady?: boolean;
  } = {},
): Promise<AgentProcess> {
  const agentOpts = {
    kind,
    name,
    profile: 'local' as const,
    ...(opts.join === undefined ? {} : { join: opts.join }),
    ...(opts.key === undefined ? {} : { key: opts.key }),
    ...(opts.extraArgs === undefined ? {} : { extraArgs: opts.extraArgs }),
  };
  const agent =
    opts.awaitReady === false
      ? AgentProcess.start(repoRoot, {
          ...agentOpts,
          port: await freePort(),
          httpPort: await freePort(),
        })
      : await AgentProcess.startReady(repoRoot, agentOpts);
  live.add(agent);
  void agent.exited.then(() => live.delete(agent));
  return agent;
}

/** SIGKILLs every agent still running. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((a) => a.stop('SIGKILL')));
}

/** One member of a cluster to start. */
export interface MemberSpec {
  readonly kind: AgentKind;
  readonly name: string;
}

/**
 * Starts `specs[0]` as the seed, then the others joining it (concurrently), and returns them in the
 * order given once every one printed `ready`.
 */
export async function startCluster(
  specs: readonly MemberSpec[],
  key?: string,
): Promise<AgentProcess[]> {
  const [seedSpec, ...rest] = specs;
  if (seedSpec === undefined) throw new Error('startCluster: no members');
  const keyOpt = key === undefined ? {} : { key };
  const seed = await startAgent(seedSpec.kind, seedSpec.name, keyOpt);
  const others = await Promise.all(
    rest.map((s) => startAgent(s.kind, s.name, { join: [seed.addr], ...keyOpt })),
  );
  return [seed, ...others];
}

/** Waits until every agent's `GET /members` lists exactly `names` as alive. */
export async function expectAllAlive(
  agents: readonly AgentProcess[],
  names: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const want = [...names].sort().join(',');
  const last = new Map<string, string>();
  await Promise.all(
    agents.map((a) =>
      waitFor(
        `${a.name} (${a.kind}) to list alive exactly [${want}]`,
        async () => {
          const alive = await a.aliveNames();
          const got = alive === undefined ? '<no answer>' : [...alive].sort().join(',');
          last.set(a.name, got);
          return got === want;
        },
        { timeoutMs, intervalMs: 150, lastSeen: () => `[${last.get(a.name) ?? ''}]` },
      ),
    ),
  );
}

/**
 * Waits until every observer printed an event matching `pred`; resolves with each observer's event
 * time minus `sinceMs` (ms), keyed by observer name.
 */
export async function allObserve(
  observers: readonly AgentProcess[],
  pred: (e: AgentEvent) => boolean,
  timeoutMs: number,
  what: string,
  sinceMs = performance.now(),
): Promise<Map<string, number>> {
  const times = await Promise.all(
    observers.map(async (o) => {
      const e = await o.waitForEvent(pred, timeoutMs, what);
      return [o.name, e.atMs - sinceMs] as const;
    }),
  );
  return new Map(times);
}

/** A 32-byte AES key, base64, made from one byte value (tests only need two distinct keys). */
export function testKey(fill: number): string {
  return Buffer.alloc(32, fill).toString('base64');
}

/** Packet counts by framing that a Go peer saw, per remote `host:port` (`GET /wire`). */
export interface WireCounts {
  readonly in: Record<string, Record<string, number>>;
  readonly out: Record<string, Record<string, number>>;
}

/** Sum of one framing counter (`crc`, `compressed`, `total`) over Go peers, towards/from `addrs`. */
export async function wireSum(
  goPeers: readonly AgentProcess[],
  direction: 'in' | 'out',
  addrs: readonly string[],
  counter: string,
): Promise<number> {
  let sum = 0;
  for (const g of goPeers) {
    const w = (await g.getJson('/wire')) as WireCounts | undefined;
    for (const addr of addrs) sum += w?.[direction][addr]?.[counter] ?? 0;
  }
  return sum;
}

/**
 * memberlist hands a user broadcast to `retransmitMult * ceil(log10(n + 1))` gossip targets and
 * receivers do not forward it, so one broadcast reaches a random few members. This sends fresh
 * broadcasts (`makeText(attempt)`) from `sender` until one of `receivers` delivers one, waiting
 * `perAttemptMs` for each; resolves with the text and the receiver.
 */
export async function broadcastUntilReceived(
  sender: AgentProcess,
  receivers: readonly AgentProcess[],
  makeText: (attempt: number) => string,
  opts: { attempts: number; perAttemptMs: number },
): Promise<{ text: string; receiver: AgentProcess }> {
  for (let attempt = 1; attempt <= opts.attempts; attempt++) {
    const text = makeText(attempt);
    sender.send(`broadcast ${text}`);
    try {
      return await Promise.any(
        receivers.map(async (r) => {
          await r.waitForEvent(
            (e) => e.event === 'user' && e.data === text,
            opts.perAttemptMs,
            'broadcast',
          );
          return { text, receiver: r };
        }),
      );
    } catch {
      // none of the receivers was among this broadcast's few targets: send another
    }
  }
  throw new Error(
    `${opts.attempts.toString()} broadcasts from ${sender.name} (${sender.kind}) never reached any of ${receivers
      .map((r) => `${r.name} (${r.kind})`)
      .join(', ')}`,
  );
}

/**
 * Asserts that `violation` stays undefined for the whole `windowMs`, polling every `intervalMs`;
 * throws with the first violation seen. The only way to show that something never happens is to
 * watch for a bounded window; the window is a protocol duration given by the caller.
 */
export async function expectNeverDuring(
  violation: () => Promise<string | undefined>,
  windowMs: number,
  intervalMs = 200,
): Promise<void> {
  const end = performance.now() + windowMs;
  while (performance.now() < end) {
    const v = await violation();
    if (v !== undefined) throw new Error(v);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
