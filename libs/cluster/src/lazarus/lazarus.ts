/**
 * Lazarus: recovery of ghost seeds, after memberlist-plumtree's "Lazarus Seed Recovery".
 *
 * A seed that died and restarted comes back with an empty member list and no seeds of its own,
 * while everybody else has marked it dead and stopped probing it: without help it stays alone.
 * Every `intervalMs` Lazarus looks at the configured static seeds; each one that is not the
 * address of an ALIVE member (suspect counts as missing: it may be the ghost) and is not this
 * node itself is probed with `join([seed])`, memberlist's push-pull join. If the seed answers,
 * both sides merge their state (the seed refutes its stale death with a higher incarnation) and
 * the cluster is whole again.
 *
 * Choices:
 * - Seeds are validated at construction ({@link validateSeedAddresses}); every problem is
 *   reported at once in a {@link LazarusOptionsError}. Host names are allowed and resolved with
 *   `node:dns` `lookup` at probe time (each round), so a seed whose IP changes is still found; a
 *   failed lookup counts as a probe sent and failed.
 * - The first round runs one interval after {@link Lazarus.start} (the node has just joined its
 *   seeds at start), then every interval. A timer that fires while a round is still running
 *   skips: rounds never overlap. {@link Lazarus.probeNow} runs a round at once, or joins the one
 *   running.
 * - The missing seeds of a round are probed concurrently, one `join` each, so one slow or silent
 *   seed does not delay the others and every reconnection is attributed to its seed.
 * - {@link Lazarus.stop} is final: it clears the timer and completes {@link Lazarus.reconnections$};
 *   a round already running finishes and is counted, but emits nothing more.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { Observable, Subject } from 'rxjs';
import { formatProblems, type Problem } from '@plumtree/common';
import { joinHostPort } from '@plumtree/swim';
import { PlumtreeNodeError } from '../plumtree-node-error.js';
import {
  canonicalAddress,
  parseSeedAddress,
  validateSeedAddresses,
  type SeedAddress,
} from './seed-address.js';

/** What Lazarus needs of a node (a {@link SwimNode} through `swimLazarusHost`). */
export interface LazarusHost {
  /** This node's advertised `host:port`: a seed at this address is never probed. */
  readonly localAddress: string;
  /** `host:port` of every member whose state is alive. */
  aliveAddresses(): Iterable<string>;
  /** memberlist's join: resolves with the number of seeds that answered, rejects if none did. */
  join(seeds: readonly string[]): Promise<number>;
}

/** Starts a timer; returns a handle for {@link LazarusOptions.clearTimer}. */
export type SetTimer = (fn: () => void, delayMs: number) => unknown;

/** Options of {@link Lazarus}. */
export interface LazarusOptions {
  /** Static seeds, `host:port` (IPv6 as `[addr]:port`, host names allowed). */
  readonly seeds: readonly string[];
  /** Time between rounds, ms. Default 30 000 (memberlist-plumtree's `lazarus_interval`). */
  readonly intervalMs?: number;
  /** Whether {@link Lazarus.start} starts the periodic task. Default true. */
  readonly enabled?: boolean;
  /** Timer start; default `setTimeout` with the timer `unref()`ed so it never holds the process. */
  readonly setTimer?: SetTimer;
  /** Timer cancel; default `clearTimeout`. */
  readonly clearTimer?: (handle: unknown) => void;
  /** The clock of {@link LazarusStats.lastProbeAtMs} and reconnection times. Default `Date.now`. */
  readonly now?: () => number;
  /** Resolves a host name to one IP address. Default `node:dns` `lookup`. */
  readonly lookup?: (host: string) => Promise<string>;
}

/** Counters of a {@link Lazarus}. */
export interface LazarusStats {
  /** Joins attempted on missing seeds (a failed name lookup counts as one, failed). */
  readonly probesSent: number;
  /** Probes that reached nobody. */
  readonly probeFailures: number;
  /** Probes of a missing seed that succeeded. */
  readonly reconnections: number;
  /** Timer ticks skipped because the previous round was still running. */
  readonly roundsSkipped: number;
  /** Configured seeds (as given) that are not alive members now, this node excluded. */
  readonly missingSeeds: string[];
  /** When the last round started (the `now` clock); null before the first. */
  readonly lastProbeAtMs: number | null;
}

/** A missing seed that answered a probe. */
export interface LazarusReconnection {
  /** The seed as configured. */
  readonly seed: string;
  /** When the join succeeded (the `now` clock). */
  readonly atMs: number;
}

/** Thrown by the {@link Lazarus} constructor for invalid options; lists every problem. */
export class LazarusOptionsError extends PlumtreeNodeError {
  override readonly name = 'LazarusOptionsError';
  constructor(readonly problems: readonly Problem[]) {
    super(formatProblems('Lazarus options', problems));
  }
}

/** Default time between rounds, ms. */
export const DEFAULT_LAZARUS_INTERVAL_MS = 30_000;

const defaultSetTimer: SetTimer = (fn, delayMs) => {
  const t = setTimeout(fn, delayMs);
  t.unref();
  return t;
};

const defaultLookup = async (host: string): Promise<string> => (await dnsLookup(host)).address;

/** The periodic re-join of static seeds that are not alive. */
export class Lazarus {
  /** Every successful probe of a missing seed. Completes on {@link stop}. */
  readonly reconnections$: Observable<LazarusReconnection>;
  private readonly reconnectionsSubject = new Subject<LazarusReconnection>();
  private readonly seeds: readonly SeedAddress[];
  private readonly intervalMs: number;
  private readonly enabled: boolean;
  private readonly setTimer: SetTimer;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly now: () => number;
  private readonly lookup: (host: string) => Promise<string>;
  /** Last resolved `ip:port` of each host-name seed, for {@link stats} between rounds. */
  private readonly resolved = new Map<string, string>();
  private timer: unknown = null;
  private round: Promise<void> | null = null;
  private stopped = false;
  private probesSent = 0;
  private probeFailures = 0;
  private reconnections = 0;
  private roundsSkipped = 0;
  private lastProbeAtMs: number | null = null;

  constructor(
    private readonly host: LazarusHost,
    options: LazarusOptions,
  ) {
    const problems: Problem[] = validateSeedAddresses(options.seeds).map((message) => ({
      field: 'seeds',
      message,
    }));
    const intervalMs = options.intervalMs ?? DEFAULT_LAZARUS_INTERVAL_MS;
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      problems.push({
        field: 'intervalMs',
        message: `must be a positive number of milliseconds, got ${intervalMs}`,
      });
    }
    if (problems.length > 0) throw new LazarusOptionsError(problems);
    this.seeds = options.seeds.map((s) => parseSeedAddress(s) as SeedAddress);
    this.intervalMs = intervalMs;
    this.enabled = options.enabled ?? true;
    this.setTimer = options.setTimer ?? defaultSetTimer;
    this.clearTimer =
      options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    this.now = options.now ?? Date.now;
    this.lookup = options.lookup ?? defaultLookup;
    this.reconnections$ = this.reconnectionsSubject.asObservable();
  }

  /** Whether the periodic task is running. */
  get running(): boolean {
    return this.timer !== null;
  }

  /** Starts the periodic task (no-op when disabled, running or stopped). */
  start(): void {
    if (!this.enabled || this.stopped || this.timer !== null) return;
    this.schedule();
  }

  /** Stops for good: no more rounds; {@link reconnections$} completes. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.reconnectionsSubject.complete();
  }

  /**
   * Runs one round now, or returns the round already running. Never rejects: failures are
   * counted. After {@link stop} it resolves without probing.
   */
  probeNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.round ??= this.runRound().finally(() => {
      this.round = null;
    });
    return this.round;
  }

  /** Counters and the seeds missing now. */
  stats(): LazarusStats {
    const alive = this.aliveSet();
    const self = canonicalAddress(this.host.localAddress);
    const missingSeeds = this.seeds
      .filter((s) => {
        const addr = s.ip ?? this.resolved.get(s.seed);
        return addr === undefined || (addr !== self && !alive.has(addr));
      })
      .map((s) => s.seed);
    return {
      probesSent: this.probesSent,
      probeFailures: this.probeFailures,
      reconnections: this.reconnections,
      roundsSkipped: this.roundsSkipped,
      missingSeeds,
      lastProbeAtMs: this.lastProbeAtMs,
    };
  }

  private schedule(): void {
    this.timer = this.setTimer(() => {
      this.timer = null;
      if (this.stopped) return;
      if (this.round) this.roundsSkipped++;
      else void this.probeNow();
      this.schedule();
    }, this.intervalMs);
  }

  private aliveSet(): Set<string> {
    const alive = new Set<string>();
    for (const a of this.host.aliveAddresses()) alive.add(canonicalAddress(a));
    return alive;
  }

  private async runRound(): Promise<void> {
    this.lastProbeAtMs = this.now();
    const addresses = await Promise.all(this.seeds.map((s) => this.resolve(s)));
    // Membership is read after the lookups, so it is as fresh as possible when deciding.
    const alive = this.aliveSet();
    const self = canonicalAddress(this.host.localAddress);
    const probes: Array<Promise<void>> = [];
    this.seeds.forEach((seed, i) => {
      const addr = addresses[i];
      if (addr === null) {
        this.probesSent++;
        this.probeFailures++;
        return;
      }
      if (addr === self || alive.has(addr!)) return;
      probes.push(this.probe(seed.seed, addr!));
    });
    await Promise.all(probes);
  }

  /** The canonical `ip:port` of a seed, or null when its name does not resolve. */
  private async resolve(seed: SeedAddress): Promise<string | null> {
    if (seed.ip !== null) return seed.ip;
    try {
      const ip = canonicalAddress(joinHostPort(await this.lookup(seed.host), seed.port));
      this.resolved.set(seed.seed, ip);
      return ip;
    } catch {
      return null;
    }
  }

  private async probe(seed: string, address: string): Promise<void> {
    this.probesSent++;
    // A closed host may throw synchronously; the async wrapper turns that into a failure.
    const contacted = await Promise.resolve()
      .then(() => this.host.join([address]))
      .catch(() => 0);
    if (contacted < 1) {
      this.probeFailures++;
      return;
    }
    this.reconnections++;
    if (!this.stopped) this.reconnectionsSubject.next({ seed, atMs: this.now() });
  }
}
