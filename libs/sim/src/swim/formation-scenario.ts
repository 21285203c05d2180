/**
 * Cluster formation on the {@link SwimSimulator}: N real cores started at once (each at a seeded
 * instant in a start window, in any order), every node but the seed joining the seed, with the
 * shell's join retry while the seed is not up yet. The question is issue 15's: how long after the
 * last node is ready (its join answered) does every node list every other as alive?
 */
import { resolveSwimConfig, type SwimConfigInput } from '@plumtree/swim/sans-io';
import { SwimSimulator } from './swim-simulator.js';

/** What to run. */
export interface FormationScenarioConfig {
  readonly nodes: number;
  readonly seed: number;
  /** Packet loss probability. Default 0. */
  readonly loss?: number;
  /** Nodes start at uniform instants in [0, startSpreadMs). Default 2,000 (processes loading). */
  readonly startSpreadMs?: number;
  /** Which node every other joins. Default 0. */
  readonly seedNode?: number;
  /** Node config (default the `local` preset, the agents' profile). */
  readonly config?: SwimConfigInput;
  /** Give up after this much simulated time. Default 120,000. */
  readonly durationMs?: number;
}

/** The result of {@link runFormationScenario}. */
export interface FormationResult {
  /** When the last node became ready (the seed at its start, the others at their join). */
  readonly lastReadyMs: number;
  /** When every node first listed all N as alive, or null within the duration. */
  readonly formedMs: number | null;
  /** `formedMs - lastReadyMs`, or null. */
  readonly formationMs: number | null;
  /** Nodes that started before their seed did (their first joins failed). */
  readonly startedBeforeSeed: number;
  /** Per node: ready to listing all N alive, ms (null: never). */
  readonly perNodeMs: readonly (number | null)[];
  readonly packetsSent: number;
  readonly streams: number;
}

/** Run one formation. Deterministic for a given config. */
export function runFormationScenario(cfg: FormationScenarioConfig): FormationResult {
  const n = cfg.nodes;
  const config = cfg.config ?? { preset: 'local' };
  const seedNode = cfg.seedNode ?? 0;
  const durationMs = cfg.durationMs ?? 120_000;
  const sim = new SwimSimulator({
    nodes: n,
    seed: cfg.seed,
    loss: cfg.loss ?? 0,
    config,
    startSpreadMs: cfg.startSpreadMs ?? 2_000,
  });
  const completeAt = new Float64Array(n).fill(NaN);
  let complete = 0;
  let formedMs: number | null = null;
  const check = (i: number, now: number): void => {
    const all =
      sim.cores[i]!.members().every((m) => m.state === 'alive') && sim.cores[i]!.numMembers() === n;
    if (all && Number.isNaN(completeAt[i]!)) {
      completeAt[i] = now;
      complete++;
      if (complete === n && formedMs === null) formedMs = now;
    }
  };
  sim.onEvent = (i, e, now) => {
    if (e.type === 'member-join' || e.type === 'member-update' || e.type === 'join-result')
      check(i, now);
  };
  sim.startWithSeeds((i) => (i === seedNode ? [] : [seedNode]));
  const step = resolveSwimConfig({ name: 'step', ...config }).gossipIntervalMs || 100;
  for (let t = step; t <= durationMs && formedMs === null; t += step) sim.runUntil(t);
  const lastReadyMs = Math.max(...sim.readyAtMs);
  const perNodeMs = Array.from(completeAt, (c, i) =>
    Number.isNaN(c) ? null : c - Math.max(sim.readyAtMs[i]!, 0),
  );
  const seedStart = sim.startAtMs[seedNode]!;
  return {
    startedBeforeSeed: Array.from(sim.startAtMs).filter((t) => t < seedStart).length,
    lastReadyMs,
    formedMs,
    formationMs:
      formedMs === null || Number.isNaN(lastReadyMs) ? null : Math.max(0, formedMs - lastReadyMs),
    perNodeMs,
    packetsSent: sim.counters.packetsSent,
    streams: sim.counters.streams,
  };
}
