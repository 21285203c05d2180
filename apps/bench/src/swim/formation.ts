/**
 * Formation of a cluster started at once (issue 15), for `bench:swim`: N agents of one kind, and
 * the time from the last one being joined to every one having printed the join of every other
 * (the lines are timed as this process reads them, the same way for both kinds); `GET /members`
 * then confirms that every agent lists all N alive.
 *
 * "Joined" is our agent's `ready` line (printed once its join succeeded) and the Go peer's
 * `joined` line (memberlist's `Join` returned). memberlist's `Join` is one attempt, so a Go node
 * started before its seed listens runs alone for good; both kinds are therefore measured with the
 * seed started first and the other N-1 started at once, in random order (`seed-first`). Ours is
 * also measured with all N started at once in random order, the seed among them (`all-at-once`,
 * which our join retry allows).
 */
import { performance } from 'node:perf_hooks';
import { AgentProcess, freePort, type AgentKind } from './agent-process.js';

/** Poll period of `/members` while waiting for formation. */
export const POLL_MS = 25;
/** Give up on one formation after this long. */
const FORMATION_TIMEOUT_MS = 90_000;

/** How the agents of one trial are started. */
export type FormationMode = 'seed-first' | 'all-at-once';

/** One formation trial. */
export interface FormationTrial {
  /** From the last node joined to every node listing all N alive, ms. */
  readonly formationMs: number;
}

function shuffled<T>(xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** When `a` was joined: our `ready` line, the Go peer's `joined` line (the seed: its `ready`). */
async function joinedAt(a: AgentProcess, isSeed: boolean): Promise<number> {
  const event = a.kind === 'go' && !isSeed ? 'joined' : 'ready';
  return (await a.waitForEvent((e) => e.event === event, 60_000, `${event} line`)).atMs;
}

/** Runs one formation of `n` agents of `kind`; every agent is killed before it returns. */
export async function formOnce(
  repoRoot: string,
  kind: AgentKind,
  n: number,
  mode: FormationMode,
  trial: number,
): Promise<FormationTrial> {
  const names = Array.from({ length: n }, (_, i) => `f${trial.toString()}-${i.toString()}`);
  const ports = await Promise.all(names.map(async () => [await freePort(), await freePort()]));
  const seedAddr = `127.0.0.1:${ports[0]![0]!.toString()}`;
  const agents: AgentProcess[] = [];
  const startOne = (i: number): AgentProcess => {
    const a = AgentProcess.start(repoRoot, {
      kind,
      name: names[i]!,
      port: ports[i]![0]!,
      httpPort: ports[i]![1]!,
      profile: 'local',
      ...(i === 0 ? {} : { join: [seedAddr] }),
    });
    agents.push(a);
    return a;
  };
  try {
    const order = shuffled(names.map((_, i) => i));
    if (mode === 'seed-first') {
      await joinedAt(startOne(0), true);
      for (const i of order) if (i !== 0) startOne(i);
    } else {
      for (const i of order) startOne(i);
    }
    const joined = await Promise.all(agents.map((a) => joinedAt(a, a.name === names[0])));
    const last = Math.max(...joined);
    // When each agent listed each other one: its `join` line for it, read as printed (both kinds
    // print one per member, those met during their own join included).
    const joins = await Promise.all(
      agents.flatMap((a) =>
        names
          .filter((x) => x !== a.name)
          .map((x) =>
            a.waitForEvent(
              (e) => e.event === 'join' && e.node === x,
              FORMATION_TIMEOUT_MS,
              `join ${x}`,
            ),
          ),
      ),
    );
    // And all of them alive at every agent in the end (no suspect left behind).
    const want = [...names].sort().join(',');
    const deadline = performance.now() + FORMATION_TIMEOUT_MS;
    for (const a of agents) {
      for (;;) {
        const alive = await a.aliveNames();
        if (alive !== undefined && [...alive].sort().join(',') === want) break;
        if (performance.now() > deadline) {
          throw new Error(`${a.name} (${kind}) lists [${(alive ?? []).join(',')}] after 90 s`);
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    }
    return { formationMs: Math.max(0, Math.max(...joins.map((e) => e.atMs)) - last) };
  } finally {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  }
}
