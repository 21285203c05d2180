/**
 * The history of a fault run: every publish request and its acknowledgement, every delivery,
 * membership change, process start and exit, fault and heal, each with its wall-clock time
 * (`at`, ms). Agents stamp their own lines (`"at"` in the agent's JSON); the harness stamps
 * what it does. Every process runs on one host, so the stamps share one clock.
 *
 * The checker (checker.ts) reads a history and nothing else.
 */
import { writeFileSync } from 'node:fs';

/** A fault made by the operating system (netns.ts) or by signals (lab-agent.ts). */
export type Fault =
  /** SIGSTOP until the heal's SIGCONT. */
  | { readonly type: 'pause'; readonly node: string }
  /** SIGKILL; healed when the node runs again on the same data dir. */
  | { readonly type: 'kill'; readonly node: string }
  /** The node's veth is down (no carrier) until the heal. */
  | { readonly type: 'link-down'; readonly node: string }
  /** Every packet between the two sides is dropped (nftables in each namespace). */
  | { readonly type: 'partition'; readonly sides: readonly [readonly string[], readonly string[]] }
  /** Packets from `from` are dropped at `to`; the other way works. */
  | { readonly type: 'oneway'; readonly from: string; readonly to: string }
  /** `percent` of the packets arriving at `node` are dropped at random (nftables numgen). */
  | { readonly type: 'loss'; readonly node: string; readonly percent: number };

/** The faults the lab makes in the network (netns.ts). */
export type NetworkFault = Extract<Fault, { type: 'link-down' | 'partition' | 'oneway' | 'loss' }>;

/** Membership changes an agent prints. */
export type MemberChange = 'join' | 'leave' | 'fail' | 'suspect' | 'update';

/** One entry of a history (`i`: its position, assigned when recorded). */
export type HistoryEvent = { readonly i: number; readonly at: number } & (
  | {
      /** A process of `node` was spawned (a new life). */
      readonly kind: 'start';
      readonly node: string;
      /** Topics it subscribes (durable ones included). */
      readonly topics: readonly string[];
      /** Its durable topics. */
      readonly durable: readonly string[];
    }
  | { readonly kind: 'ready'; readonly node: string }
  | {
      readonly kind: 'exit';
      readonly node: string;
      readonly code: number | null;
      readonly signal: string | null;
    }
  /** The harness asked `node` to publish `data` on `topic`. */
  | {
      readonly kind: 'publish';
      readonly node: string;
      readonly topic: string;
      readonly data: string;
    }
  /** `node` acknowledged a publish: the message has id `id`. */
  | {
      readonly kind: 'ack';
      readonly node: string;
      readonly topic: string;
      readonly data: string;
      readonly id: string;
    }
  | {
      readonly kind: 'publish-error';
      readonly node: string;
      readonly topic: string;
      readonly data: string;
      readonly error: string;
    }
  /** `node` handed message `id` to its handler. */
  | {
      readonly kind: 'deliver';
      readonly node: string;
      readonly topic: string;
      readonly id: string;
      readonly data: string;
      readonly redelivered: boolean;
    }
  /** `node` saw `member` change. */
  | {
      readonly kind: 'member';
      readonly node: string;
      readonly change: MemberChange;
      readonly member: string;
    }
  /** A durable catch-up event of `node` (`catchup-started`, `-completed`, `-failed`, ...). */
  | {
      readonly kind: 'durable';
      readonly node: string;
      readonly type: string;
      readonly topic: string;
      readonly peer: string;
      readonly records: number;
    }
  | { readonly kind: 'fault'; readonly faultId: number; readonly fault: Fault }
  | { readonly kind: 'heal'; readonly faultId: number }
  /** The harness saw every node alive at every node, with every topic's peers, after a heal. */
  | { readonly kind: 'recovered' }
);

/** A history event before it is numbered. */
export type NewHistoryEvent = HistoryEvent extends infer E
  ? E extends HistoryEvent
    ? Omit<E, 'i'>
    : never
  : never;

/** Collects a history in memory, in the order events are recorded. */
export class History {
  private readonly list: HistoryEvent[] = [];
  private faults = 0;

  /** Every event so far. */
  get events(): readonly HistoryEvent[] {
    return this.list;
  }

  /** Records `e` (numbered in recording order). */
  record(e: NewHistoryEvent): HistoryEvent {
    const ev = { ...e, i: this.list.length } as HistoryEvent;
    this.list.push(ev);
    return ev;
  }

  /** Records the start of `fault` now; returns its id for {@link heal}. */
  fault(fault: Fault, at = Date.now()): number {
    const faultId = ++this.faults;
    this.record({ kind: 'fault', at, faultId, fault });
    return faultId;
  }

  /** Every event as one JSON line. */
  toJsonl(): string {
    return this.list.map((e) => JSON.stringify(e)).join('\n') + '\n';
  }

  /** Writes {@link toJsonl} to `path` (for a look at a failed run). */
  writeJsonl(path: string): void {
    writeFileSync(path, this.toJsonl());
  }

  /** Records the end of fault `faultId` now. */
  heal(faultId: number, at = Date.now()): void {
    this.record({ kind: 'heal', at, faultId });
  }
}

/** `origin/epoch/seq` split (the origin may hold `/`: the last two fields are numbers). */
export function parseMessageId(id: string): { origin: string; epoch: number; seq: number } | null {
  const m = /^(.+)\/(\d+)\/(\d+)$/.exec(id);
  if (!m) return null;
  return { origin: m[1]!, epoch: Number(m[2]), seq: Number(m[3]) };
}

/** One fault as the history shows it (for the printed figures). */
export interface FaultFigures {
  readonly fault: Fault;
  readonly lastedMs: number;
  /** Members declared dead during it or until it recovered (fail events). */
  readonly deaths: number;
  /** From its start to the first death; undefined with none. */
  readonly firstDeathMs: number | undefined;
  /** From its heal to the next `recovered`. */
  readonly recoveredMs: number | undefined;
  /** Deliveries flagged redelivered from its start until the next fault. */
  readonly redelivered: number;
}

/** Per fault: how long it lasted, the deaths it caused and how fast the cluster recovered. */
export function faultFigures(events: readonly HistoryEvent[]): FaultFigures[] {
  const out: FaultFigures[] = [];
  for (const f of events) {
    if (f.kind !== 'fault') continue;
    const heal = events.find((e) => e.kind === 'heal' && e.faultId === f.faultId);
    const rec = heal && events.find((e) => e.kind === 'recovered' && e.i > heal.i);
    const until = rec?.at ?? Infinity;
    const during = events.filter((e) => e.at >= f.at && e.at <= until);
    const next = events.find((e) => e.kind === 'fault' && e.i > f.i)?.at ?? Infinity;
    const redelivered = events.filter(
      (e) => e.kind === 'deliver' && e.redelivered && e.at >= f.at && e.at < next,
    );
    const deaths = during.filter((e) => e.kind === 'member' && e.change === 'fail');
    out.push({
      fault: f.fault,
      lastedMs: heal === undefined ? Infinity : heal.at - f.at,
      deaths: deaths.length,
      firstDeathMs: deaths[0] === undefined ? undefined : deaths[0].at - f.at,
      recoveredMs: heal === undefined || rec === undefined ? undefined : rec.at - heal.at,
      redelivered: redelivered.length,
    });
  }
  return out;
}
