// Helpers of the multi-process cluster tests: start `plumtree agent` processes
// (apps/bench/src/swim/agent-process.ts) with topics, read their deliveries and `GET /stats`.
// Every wait is bounded polling; nothing sleeps a fixed time.
import { AgentProcess } from '../../../apps/bench/src/swim/agent-process.js';
import { repoRoot } from '../../support/build-dist.js';
import { waitFor } from '../../support/wait-for.js';
import type { PlumtreeNodeStats } from '../../../libs/cluster/src/node/index.js';

// The build lives in test/support/build-dist.ts (also the e2e project's globalSetup).
export { buildDist, repoRoot } from '../../support/build-dist.js';

/** One agent to start. */
export interface TopicAgentSpec {
  readonly name: string;
  /** Topics and patterns (`--topics`). */
  readonly topics: readonly string[];
  /** Extra flags (hidden ones such as `--handler-delay-ms`). */
  readonly extraArgs?: readonly string[];
}

const live = new Set<AgentProcess>();

/** Starts `specs[0]` as the seed and the others joining it; resolves once all printed `ready`. */
export async function startTopicCluster(specs: readonly TopicAgentSpec[]): Promise<AgentProcess[]> {
  const start = async (s: TopicAgentSpec, join?: string): Promise<AgentProcess> => {
    const a = await AgentProcess.startReady(
      repoRoot,
      {
        kind: 'ours',
        name: s.name,
        profile: 'local',
        ...(join === undefined ? {} : { join: [join] }),
        extraArgs: [
          ...(s.topics.length > 0 ? ['--topics', s.topics.join(',')] : []),
          ...(s.extraArgs ?? []),
        ],
      },
      30_000,
    );
    live.add(a);
    void a.exited.then(() => live.delete(a));
    return a;
  };
  const [first, ...rest] = specs;
  if (first === undefined) throw new Error('no agents');
  const seed = await start(first);
  const others = await Promise.all(rest.map((s) => start(s, seed.addr)));
  return [seed, ...others];
}

/** SIGKILLs every agent still running. */
export async function killAllAgents(): Promise<void> {
  await Promise.all([...live].map((a) => a.stop('SIGKILL')));
}

/** `GET /stats` of an agent, or undefined when it does not answer. */
export async function statsOf(a: AgentProcess): Promise<PlumtreeNodeStats | undefined> {
  return (await a.getJson('/stats')) as PlumtreeNodeStats | undefined;
}

/** `GET /stats` of an agent; throws when it does not answer. */
export async function mustStats(a: AgentProcess): Promise<PlumtreeNodeStats> {
  const s = await statsOf(a);
  if (s === undefined) throw new Error(`${a.name}: GET /stats did not answer`);
  return s;
}

/** The `data` of every `message` line an agent printed so far (one entry per delivery). */
export function deliveredData(a: AgentProcess): string[] {
  const out: string[] = [];
  for (const e of a.events) if (e.event === 'message' && e.data !== undefined) out.push(e.data);
  return out;
}

/** The `data` fields delivered more than once by an agent. */
export function duplicates(a: AgentProcess): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const d of deliveredData(a)) {
    if (seen.has(d)) dups.push(d);
    seen.add(d);
  }
  return dups;
}

/** How many of `want` an agent has not delivered yet. */
export function missingCount(a: AgentProcess, want: readonly string[]): number {
  const got = new Set(deliveredData(a));
  let n = 0;
  for (const w of want) if (!got.has(w)) n++;
  return n;
}

/**
 * Waits until every agent of `subscribers` delivered every one of `want`; throws (after
 * `timeoutMs`) naming what each still misses.
 */
export async function waitDelivered(
  subscribers: readonly AgentProcess[],
  want: readonly string[],
  timeoutMs: number,
  what: string,
): Promise<void> {
  await waitFor(what, () => subscribers.every((a) => missingCount(a, want) === 0), {
    timeoutMs,
    intervalMs: 100,
    lastSeen: () =>
      subscribers
        .map(
          (a) => `${a.name} misses ${missingCount(a, want).toString()}/${want.length.toString()}`,
        )
        .join(', '),
  });
}

/**
 * Waits until every agent's `publish` lines were all answered (`published` or `publish-error`)
 * and returns the published count per agent; throws on any `publish-error`.
 */
export async function waitPublished(
  publishers: ReadonlyMap<AgentProcess, number>,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    'every publish acknowledged',
    () => {
      for (const [a, n] of publishers) {
        const err = a.events.find((e) => e.event === 'publish-error');
        if (err !== undefined) throw new Error(`${a.name}: publish failed: ${err.error ?? ''}`);
        if (a.events.filter((e) => e.event === 'published').length < n) return false;
      }
      return true;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

/**
 * Waits until each agent's view of each of its topics holds every other subscriber (the topic
 * directory converged): `stats().topics[t].peers === subscribers(t) - 1`.
 */
export async function waitViews(
  agents: readonly AgentProcess[],
  subscribersOf: (topic: string) => number,
  topicsOf: (a: AgentProcess) => readonly string[],
  timeoutMs: number,
): Promise<void> {
  const last = new Map<string, string>();
  await Promise.all(
    agents.map((a) =>
      waitFor(
        `${a.name} to see every subscriber of its topics`,
        async () => {
          const s = await statsOf(a);
          if (s === undefined) return false;
          const bad = topicsOf(a).filter(
            (t) => (s.topics[t]?.peers ?? -1) !== subscribersOf(t) - 1,
          );
          last.set(
            a.name,
            bad.map((t) => `${t}:${String(s.topics[t]?.peers ?? 'none')}`).join(' '),
          );
          return bad.length === 0;
        },
        { timeoutMs, intervalMs: 150, lastSeen: () => last.get(a.name) ?? '' },
      ),
    ),
  );
}
