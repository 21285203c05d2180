/**
 * Options of a {@link LocalCluster}, checked once: every problem in one
 * {@link LocalClusterError}.
 */
import { validateTopic } from '@plumtree/cluster';

/** A command or option the local cluster refuses. */
export class LocalClusterError extends Error {
  override readonly name = 'LocalClusterError';
}

/** A chat room: a topic, durable or not. */
export interface RoomSpec {
  /** The topic, e.g. `chat.general`. */
  readonly name: string;
  /** Logged and caught up after a restart or a partition (docs/persistence.md). */
  readonly durable: boolean;
}

/** The rooms of the demos: one durable room everyone is in, two plain ones. */
export const DEFAULT_ROOMS: readonly RoomSpec[] = Object.freeze([
  { name: 'chat.general', durable: true },
  { name: 'chat.ops', durable: false },
  { name: 'chat.random', durable: false },
]);

/**
 * Who is in which room at start: everyone in `chat.general`, the first half of the nodes in
 * `chat.ops`, the second half in `chat.random` (so each room has its own tree).
 */
export function defaultInitialRooms(index: number, size: number): string[] {
  const half = Math.ceil(size / 2);
  return ['chat.general', index < half ? 'chat.ops' : 'chat.random'];
}

/** Largest cluster the supervisor starts (processes on one machine). */
export const MAX_NODES = 16;

/** Options of {@link LocalCluster}. */
export interface LocalClusterOptions {
  /** Node processes, 1 to {@link MAX_NODES}. Default 5. */
  readonly nodes?: number;
  /** The rooms. Default {@link DEFAULT_ROOMS}. */
  readonly rooms?: readonly RoomSpec[];
  /** Rooms of node `index` (0-based) at start. Default {@link defaultInitialRooms}. */
  readonly initialRooms?: (index: number, size: number) => readonly string[];
  /**
   * Where the nodes' stores live (one directory per node, kept). Default a fresh temporary
   * directory, removed by `stop()`.
   */
  readonly dataDir?: string;
  /** Seed of the nodes' RNGs (node i gets seed + i). Default random. */
  readonly seed?: number;
  /** Lines the node processes print (Nest warnings and errors), prefixed with the node. Default: dropped. */
  readonly log?: (line: string) => void;
}

/** The options completed. */
export interface ResolvedLocalClusterOptions {
  readonly nodes: number;
  readonly rooms: readonly RoomSpec[];
  readonly initialRooms: (index: number, size: number) => readonly string[];
  readonly seed: number;
  readonly log: (line: string) => void;
}

/** Checks and completes the options; throws one {@link LocalClusterError} naming every problem. */
export function resolveLocalClusterOptions(o: LocalClusterOptions): ResolvedLocalClusterOptions {
  const problems: string[] = [];
  const nodes = o.nodes ?? 5;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    problems.push(
      `nodes must be an integer from 1 to ${MAX_NODES.toString()}, got ${String(nodes)}`,
    );
  }
  const rooms = o.rooms ?? DEFAULT_ROOMS;
  if (rooms.length === 0) problems.push('rooms must name at least one room');
  const names = new Set<string>();
  for (const r of rooms) {
    const reason = validateTopic(r.name);
    if (reason !== null) problems.push(`room ${JSON.stringify(r.name)}: ${reason}`);
    if (names.has(r.name)) problems.push(`room ${JSON.stringify(r.name)} is named twice`);
    names.add(r.name);
  }
  const initialRooms =
    o.initialRooms ??
    (o.rooms === undefined ? defaultInitialRooms : () => rooms.map((r) => r.name));
  if (problems.length === 0) {
    for (let i = 0; i < nodes; i++) {
      for (const r of initialRooms(i, nodes)) {
        if (!names.has(r)) problems.push(`initialRooms(${i.toString()}) names unknown room ${r}`);
      }
    }
  }
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed) || seed < 0) problems.push(`seed must be a non-negative integer`);
  if (problems.length > 0) throw new LocalClusterError(problems.join('\n'));
  return { nodes, rooms, initialRooms, seed, log: o.log ?? (() => undefined) };
}
