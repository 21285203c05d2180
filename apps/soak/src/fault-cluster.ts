/**
 * A cluster of agents in a network-namespace lab, the faults that can be done to it, a steady
 * publishing load, and the history of it all (history.ts) for the checker (checker.ts).
 *
 * Every fault is recorded after the OS has made it (so the history never shows a fault earlier
 * than it was) and healed the same way; after each heal the cluster waits, by bounded polling,
 * until every node sees every other alive and knows every topic's peers, and records that as
 * `recovered`. The only fixed waits are the faults' own durations.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { swimBounds, type SwimBounds } from './bounds.js';
import { checkHistory, type Violation } from './checker.js';
import { History, type Fault, type NetworkFault } from './history.js';
import { LabAgent } from './lab-agent.js';
import { NetLab } from './netns.js';
import { WaitTimeoutError, waitUntil } from '../../bench/src/wait-until.js';
import { faultDuration } from './poll.js';

/** How to build a cluster. */
export interface FaultClusterOptions {
  /** Node names; the first is the seed the others join. */
  readonly names: readonly string[];
  /** Non-durable topics every node subscribes. */
  readonly topics: readonly string[];
  /** Durable topics every node subscribes. */
  readonly durable: readonly string[];
  readonly profile: 'lan' | 'local';
  /** Repository root (apps/cli/dist/main.js is run). */
  readonly repoRoot: string;
  /** Extra agent flags per node. */
  readonly extraArgs?: Readonly<Record<string, readonly string[]>>;
  /** Flags of node itself for every agent (e.g. `--expose-gc`). */
  readonly nodeFlags?: readonly string[];
}

/** A running publishing load. */
export interface Load {
  /** Publish requests made so far. */
  readonly sent: () => number;
  stop(): void;
}

/** See the file header. */
export class FaultCluster {
  readonly history = new History();
  readonly bounds: SwimBounds;
  readonly agents = new Map<string, LabAgent>();
  private readonly dataRoot = mkdtempSync(join(tmpdir(), 'plumtree-faults-'));
  private readonly counters = new Map<string, number>();

  private constructor(
    readonly lab: NetLab,
    readonly options: FaultClusterOptions,
  ) {
    this.bounds = swimBounds(options.profile, options.names.length);
    for (const name of options.names) {
      this.agents.set(
        name,
        new LabAgent(lab, this.history, options.repoRoot, {
          name,
          topics: options.topics,
          durable: options.durable,
          dataDir: join(this.dataRoot, name),
          profile: options.profile,
          extraArgs: options.extraArgs?.[name] ?? [],
          nodeFlags: options.nodeFlags ?? [],
        }),
      );
    }
  }

  /** Makes the lab, starts every agent (the first, then the others joining it) and waits until recovered. */
  static async start(options: FaultClusterOptions): Promise<FaultCluster> {
    const lab = await NetLab.create(options.names);
    const c = new FaultCluster(lab, options);
    try {
      const [first, ...rest] = [...c.agents.values()];
      await first!.start([], c.seedsOf(first!.name));
      await Promise.all(rest.map((a) => a.start([first!.address], c.seedsOf(a.name))));
      await c.waitRecovered(60_000);
      return c;
    } catch (e) {
      await c.close();
      throw e;
    }
  }

  /** The agent of `name`. */
  agent(name: string): LabAgent {
    const a = this.agents.get(name);
    if (a === undefined) throw new Error(`no node ${name}`);
    return a;
  }

  /** Addresses of every other node. */
  seedsOf(name: string): string[] {
    return [...this.agents.values()].filter((a) => a.name !== name).map((a) => a.address);
  }

  /**
   * Waits until every running node sees all nodes alive, none suspect, and as many peers of each
   * topic as there are other nodes; records `recovered`.
   */
  async waitRecovered(timeoutMs = 60_000): Promise<void> {
    const n = this.agents.size;
    let last = '';
    await waitUntil(
      'the cluster to recover',
      async () => {
        const states = await Promise.all(
          [...this.agents.values()].map(async (a) => [a.name, await a.request('stats')] as const),
        );
        const behind: string[] = [];
        for (const [name, s] of states) {
          if (s === undefined) {
            behind.push(`${name}: no stats`);
            continue;
          }
          const swim = s['swim'] as { alive: number; suspect: number };
          const topics = s['topics'] as Record<string, { peers: number } | undefined>;
          const short = [...this.options.topics, ...this.options.durable].filter(
            (t) => topics[t]?.peers !== n - 1,
          );
          if (swim.alive !== n || swim.suspect > 0 || short.length > 0) {
            behind.push(
              `${name}: alive ${swim.alive.toString()}/${n.toString()}, suspect ${swim.suspect.toString()}` +
                (short.length > 0 ? `, topics short of peers: ${short.join(',')}` : ''),
            );
          }
        }
        last = behind.join('; ');
        return behind.length === 0;
      },
      { timeoutMs, intervalMs: 250, lastSeen: () => last },
    );
    this.history.record({ kind: 'recovered', at: Date.now() });
  }

  /**
   * Every `intervalMs`, each of `publishers` that runs publishes one message on every topic
   * (data `node-topic-k`, unique). A paused publisher's requests wait in its stdin.
   */
  startLoad(publishers: readonly string[], intervalMs: number): Load {
    let sent = 0;
    const topics = [...this.options.topics, ...this.options.durable];
    const timer = setInterval(() => {
      for (const p of publishers) {
        const a = this.agent(p);
        if (!a.running) continue;
        for (const t of topics) if (this.publishOne(a, t)) sent++;
      }
    }, intervalMs);
    return { sent: () => sent, stop: () => clearInterval(timer) };
  }

  /** `count` publish requests from `node` on `topic` at once. */
  burst(node: string, topic: string, count: number): void {
    const a = this.agent(node);
    for (let k = 0; k < count; k++) this.publishOne(a, topic);
  }

  /**
   * Waits (bounded) until no required delivery is missing, then returns every violation of the
   * history so far (at the deadline too: the caller prints them).
   */
  async drain(timeoutMs = 60_000): Promise<Violation[]> {
    try {
      await waitUntil(
        'every required delivery',
        () => !this.check().some((v) => v.rule === 'missing' || v.rule === 'durable-missing'),
        { timeoutMs, intervalMs: 500 },
      );
    } catch (e) {
      if (!(e instanceof WaitTimeoutError)) throw e;
    }
    return this.check();
  }

  /** The checker over the history so far. */
  check(): Violation[] {
    return checkHistory(this.history.events, this.bounds);
  }

  /** SIGSTOP `node` for `ms`, SIGCONT, wait until recovered. */
  async pause(node: string, ms: number): Promise<void> {
    const a = this.agent(node);
    await this.during(
      { type: 'pause', node },
      async () => a.signal('SIGSTOP'),
      ms,
      async () => a.signal('SIGCONT'),
    );
  }

  /** SIGKILL `node`, keep it down `ms`, start it again on the same data dir, wait until recovered. */
  async kill(node: string, ms: number): Promise<void> {
    const a = this.agent(node);
    await this.during(
      { type: 'kill', node },
      // Recorded as soon as the signal is sent: the exit is seen a turn later.
      async () => a.signal('SIGKILL'),
      ms,
      async () => {
        await a.exited();
        const up = [...this.agents.values()].filter((o) => o.running && o.name !== node);
        await a.start(
          up.map((o) => o.address),
          this.seedsOf(node),
        );
      },
    );
  }

  /**
   * A fault of the network for `ms`: a link down, a partition, a one-way rule or packet loss,
   * made by the lab (netns.ts) and undone by its heal.
   */
  async network(fault: NetworkFault, ms: number): Promise<void> {
    await this.during(
      fault,
      () => this.lab.apply(fault),
      ms,
      () => this.lab.heal(),
    );
  }

  /** Stops every agent (graceful, SIGKILL after 10 s), removes the lab and the data dirs. */
  async close(): Promise<void> {
    try {
      await Promise.all([...this.agents.values()].map((a) => a.stop()));
    } finally {
      this.lab.destroySync();
      rmSync(this.dataRoot, { recursive: true, force: true });
    }
  }

  private publishOne(a: LabAgent, topic: string): boolean {
    const key = `${a.name}-${topic}`;
    const k = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, k);
    return a.publish(topic, `${key}-${k.toString()}`);
  }

  /** Makes `fault`, records it, lasts `ms`, undoes it, records the heal, waits until recovered. */
  private async during(
    fault: Fault,
    make: () => Promise<void>,
    ms: number,
    undo: () => Promise<void>,
  ): Promise<void> {
    await make();
    const id = this.history.fault(fault);
    await faultDuration(ms);
    await undo();
    this.history.heal(id);
    await this.waitRecovered();
  }
}
