/**
 * The checker: a history in (history.ts), the violations of the delivery and membership contract
 * out, each with the shortest excerpt of the history that shows it. Pure: no clock, no IO.
 *
 * The contract it holds (docs/faults.md, docs/persistence.md, docs/cluster.md):
 * - `phantom` / `corrupt`: every delivery is of a message that was published: its id was
 *   acknowledged with the same topic and data, or (publisher killed before its ack) its origin
 *   was asked to publish that data on that topic before.
 * - `duplicate`: a node hands a message to its handler once. The one exception is at-least-once
 *   durable delivery across a crash: a later copy flagged `redelivered`, in a later life of the
 *   node (a process started after the previous copy).
 * - `missing`: every acknowledged message on a non-durable topic reaches every subscriber that
 *   stayed up and connected to the publisher from the publish request until `deliveryBoundMs`
 *   after the acknowledgement. Connected: a path of up nodes whose links no fault cuts, checked
 *   at the start of that window and at every fault and exit inside it; a fault's effect lasts from
 *   its start until the first `recovered` after its heal (rejoining takes time); and the
 *   publisher's node held the subscriber alive throughout (a node sends nothing to a member it
 *   holds dead; whether that death was justified is the `unjustified-death` rule's business).
 * - `durable-missing`: every acknowledged message on a durable topic reaches every node that
 *   subscribed the topic as durable in any life, eventually: across restarts and partitions.
 * - `order`: within one life of a node, the messages of one stream (topic, origin, epoch) of a
 *   durable topic are delivered in increasing seq order (redelivered ones included).
 * - `unjustified-death`: a member is declared dead (`fail`) only when a fault of it (pause, kill,
 *   link down, a partition or one-way rule it is part of, its exit) began at least
 *   `suspicionMinMs` before, lasted at least `suspicionMinMs - refuteSlackMs`, and its effect
 *   ended at most `refuteGraceMs` before; or when a member cut off from it by a fault suspected
 *   it meanwhile, at most `refuteGraceMs` (the longest suspicion) before. The second is SWIM's
 *   (and memberlist's) stale suspicion: a member that was cut off suspects the others, its
 *   suspect messages are lost with the link, nobody hears them to refute, and the suspicion can
 *   still end in a death after the heal. Packet loss never justifies a death.
 * - `undetected-pause`: a pause of at least `detectionBoundMs` is declared dead by every other
 *   member running throughout it, before it ends (+ `refuteGraceMs`).
 * - `no-rejoin`: a member declared dead is alive again (`join`) at the declaring member within
 *   `rejoinBoundMs` of the end of the fault that justified it (after a pause: it refuted).
 * - `crash`: a process exits only when a fault killed it or with status 0 (a graceful stop).
 */
import { parseMessageId, type Fault, type HistoryEvent } from './history.js';

/** Bounds the checker holds the history to; see the file header. */
export interface CheckerConfig {
  /** Minimum suspicion timeout of the cluster (formulas.ts `suspicionTimeoutMs`). */
  readonly suspicionMinMs: number;
  /** A fault shorter than `suspicionMinMs - refuteSlackMs` never justifies a death. */
  readonly refuteSlackMs: number;
  /** Deaths declared up to this long after a fault's effect ended still belong to it. */
  readonly refuteGraceMs: number;
  /** A pause at least this long must be declared dead by every other running member. */
  readonly detectionBoundMs: number;
  /** A member declared dead is alive again at the declarer within this long after the fault. */
  readonly rejoinBoundMs: number;
  /** How long after its acknowledgement a message may still be on its way. */
  readonly deliveryBoundMs: number;
}

/** The rules, as named in violations. */
export type Rule =
  | 'phantom'
  | 'corrupt'
  | 'duplicate'
  | 'missing'
  | 'durable-missing'
  | 'order'
  | 'unjustified-death'
  | 'undetected-pause'
  | 'no-rejoin'
  | 'crash';

/** One broken promise and the events that show it, in history order. */
export interface Violation {
  readonly rule: Rule;
  readonly message: string;
  readonly excerpt: readonly HistoryEvent[];
}

type Ev<K extends HistoryEvent['kind']> = Extract<HistoryEvent, { kind: K }>;

interface Life {
  readonly start: Ev<'start'>;
  exit: Ev<'exit'> | undefined;
}

/** A stretch of time during which a fault (or an exit) affects nodes. */
interface Effect {
  readonly fault: Fault | { readonly type: 'down'; readonly node: string };
  readonly begin: HistoryEvent;
  readonly end: HistoryEvent | undefined;
  readonly startAt: number;
  /** When the OS action was undone (Infinity: never). */
  readonly healAt: number;
  /** The first `recovered` after the heal (Infinity: none). */
  readonly effectEnd: number;
}

/** Everything the rules look up, built once. */
class Index {
  readonly nodes: string[] = [];
  readonly lives = new Map<string, Life[]>();
  readonly acks = new Map<string, Ev<'ack'>>();
  readonly publishes = new Map<string, Ev<'publish'>[]>();
  readonly deliveries = new Map<string, Ev<'deliver'>[]>();
  readonly members: Ev<'member'>[] = [];
  readonly effects: Effect[] = [];
  readonly durableTopics = new Set<string>();

  constructor(readonly events: readonly HistoryEvent[]) {
    const recovered = events.filter((e) => e.kind === 'recovered').map((e) => e.at);
    const recoveredAfter = (t: number): number => recovered.find((r) => r >= t) ?? Infinity;
    const open = new Map<number, Ev<'fault'>>();
    for (const e of events) {
      switch (e.kind) {
        case 'start': {
          if (!this.lives.has(e.node)) {
            this.lives.set(e.node, []);
            this.nodes.push(e.node);
          }
          this.lives.get(e.node)!.push({ start: e, exit: undefined });
          for (const t of e.durable) this.durableTopics.add(t);
          break;
        }
        case 'exit': {
          const life = this.lives.get(e.node)?.at(-1);
          if (life !== undefined && life.exit === undefined) life.exit = e;
          break;
        }
        case 'publish':
          push(this.publishes, publishKey(e.node, e.topic, e.data), e);
          break;
        case 'ack':
          this.acks.set(messageKey(e.topic, e.id), e);
          break;
        case 'deliver':
          push(this.deliveries, messageKey(e.topic, e.id), e);
          break;
        case 'member':
          this.members.push(e);
          break;
        case 'fault':
          open.set(e.faultId, e);
          break;
        case 'heal': {
          const f = open.get(e.faultId);
          if (f === undefined) break;
          open.delete(e.faultId);
          this.effects.push({
            fault: f.fault,
            begin: f,
            end: e,
            startAt: f.at,
            healAt: e.at,
            effectEnd: recoveredAfter(e.at),
          });
          break;
        }
        default:
          break;
      }
    }
    for (const f of open.values()) {
      this.effects.push({
        fault: f.fault,
        begin: f,
        end: undefined,
        startAt: f.at,
        healAt: Infinity,
        effectEnd: Infinity,
      });
    }
    // An exit is a fault of its own until the next life has recovered.
    for (const [node, lives] of this.lives) {
      lives.forEach((l, k) => {
        if (l.exit === undefined) return;
        const next = lives[k + 1];
        this.effects.push({
          fault: { type: 'down', node },
          begin: l.exit,
          end: next?.start,
          startAt: l.exit.at,
          healAt: next?.start.at ?? Infinity,
          effectEnd: next === undefined ? Infinity : recoveredAfter(next.start.at),
        });
      });
    }
  }

  /** The life of `node` that an event with index `i` belongs to. */
  lifeAt(node: string, i: number): number {
    const lives = this.lives.get(node) ?? [];
    let k = -1;
    for (let j = 0; j < lives.length; j++) if (lives[j]!.start.i < i) k = j;
    return k;
  }

  /** The life of `node` running at time `t`, if any. */
  runningAt(node: string, t: number): Life | undefined {
    return this.lives
      .get(node)
      ?.find((l) => l.start.at <= t && (l.exit === undefined || t < l.exit.at));
  }

  /** Whether `observer` held `member` dead at some time in [from, to] (a `fail` not yet undone by a `join`). */
  heldDead(observer: string, member: string, from: number, to: number): boolean {
    // One observer's lines are in its own order, so its view can be replayed.
    let dead = false;
    for (const m of this.members) {
      if (m.node !== observer || m.member !== member) continue;
      // Dead when the window began (or at this change inside it).
      if (dead && m.at >= from) return true;
      if (m.at > to) break;
      if (m.change === 'fail') {
        if (m.at >= from) return true;
        dead = true;
      } else if (m.change === 'join') {
        dead = false;
      }
    }
    return dead;
  }

  /** Whether `x` can reach `p` at time `t` over up nodes and links no fault cuts. */
  connected(p: string, x: string, t: number): boolean {
    const down = new Set<string>();
    const cut = new Set<string>();
    for (const n of this.nodes) if (this.runningAt(n, t) === undefined) down.add(n);
    for (const e of this.effects) {
      if (!(e.startAt <= t && t < e.effectEnd)) continue;
      const f = e.fault;
      if (f.type === 'partition') {
        for (const a of f.sides[0]) for (const b of f.sides[1]) cut.add(edge(a, b));
      } else if (f.type === 'oneway') {
        // TCP needs both ways: a one-way rule cuts the pair's frame connections.
        cut.add(edge(f.from, f.to));
      } else if (f.type !== 'loss') {
        down.add(f.node);
      }
    }
    if (down.has(p) || down.has(x)) return false;
    const seen = new Set([p]);
    const queue = [p];
    while (queue.length > 0) {
      const u = queue.pop()!;
      if (u === x) return true;
      for (const v of this.nodes) {
        if (seen.has(v) || down.has(v) || cut.has(edge(u, v))) continue;
        seen.add(v);
        queue.push(v);
      }
    }
    return false;
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, [v]);
  else l.push(v);
}

function publishKey(node: string, topic: string, data: string): string {
  return `${node}\0${topic}\0${data}`;
}

/** Message ids count per topic: (topic, id) names a message. */
function messageKey(topic: string, id: string): string {
  return `${topic}\0${id}`;
}

function edge(a: string, b: string): string {
  return a < b ? `${a}\0${b}` : `${b}\0${a}`;
}

/** Whether fault effect `e` concerns `node` (what may make others declare it dead). */
function involves(e: Effect, node: string): boolean {
  const f = e.fault;
  switch (f.type) {
    case 'partition':
      return f.sides[0].includes(node) || f.sides[1].includes(node);
    case 'oneway':
      return f.from === node || f.to === node;
    case 'loss':
      return false;
    default:
      return f.node === node;
  }
}

function byIndex(events: readonly (HistoryEvent | undefined)[]): HistoryEvent[] {
  const seen = new Set<number>();
  const out: HistoryEvent[] = [];
  for (const e of events) {
    if (e === undefined || seen.has(e.i)) continue;
    seen.add(e.i);
    out.push(e);
  }
  return out.sort((a, b) => a.i - b.i);
}

/** Checks `events` against the contract (see the file header); [] when every promise held. */
export function checkHistory(events: readonly HistoryEvent[], config: CheckerConfig): Violation[] {
  const ix = new Index(events);
  return [
    ...checkCrashes(ix),
    ...checkPublished(ix),
    ...checkDuplicates(ix),
    ...checkOrder(ix),
    ...checkPlainComplete(ix, config),
    ...checkDurableComplete(ix),
    ...checkDeaths(ix, config),
    ...checkPauses(ix, config),
  ];
}

function checkCrashes(ix: Index): Violation[] {
  const out: Violation[] = [];
  for (const [node, lives] of ix.lives) {
    for (const l of lives) {
      const x = l.exit;
      if (x === undefined || x.code === 0) continue;
      const killed = ix.effects.find(
        (e) =>
          e.fault.type === 'kill' && e.fault.node === node && e.startAt <= x.at && x.at <= e.healAt,
      );
      if (killed !== undefined) continue;
      out.push({
        rule: 'crash',
        message: `${node} exited (code ${String(x.code)}, signal ${String(x.signal)}) without a kill fault`,
        excerpt: [l.start, x],
      });
    }
  }
  return out;
}

function checkPublished(ix: Index): Violation[] {
  const out: Violation[] = [];
  for (const [key, list] of ix.deliveries) {
    for (const d of list) {
      const id = d.id;
      const ack = ix.acks.get(key);
      if (ack !== undefined) {
        if (ack.topic !== d.topic || ack.data !== d.data) {
          out.push({
            rule: 'corrupt',
            message: `${d.node} delivered ${id} with other topic or data than acknowledged`,
            excerpt: byIndex([ack, d]),
          });
        }
        continue;
      }
      const origin = parseMessageId(id)?.origin ?? '';
      const asked = ix.publishes.get(publishKey(origin, d.topic, d.data))?.find((p) => p.i < d.i);
      if (asked === undefined) {
        out.push({
          rule: 'phantom',
          message: `${d.node} delivered ${id} (${JSON.stringify(d.data)} on ${d.topic}), which ${origin || 'nobody'} was never asked to publish`,
          excerpt: [d],
        });
      }
    }
  }
  return out;
}

function checkDuplicates(ix: Index): Violation[] {
  const out: Violation[] = [];
  for (const list of ix.deliveries.values()) {
    const last = new Map<string, Ev<'deliver'>>();
    for (const d of list) {
      const prev = last.get(d.node);
      last.set(d.node, d);
      if (prev === undefined) continue;
      const laterLife = ix.lifeAt(d.node, d.i) > ix.lifeAt(d.node, prev.i);
      if (ix.durableTopics.has(d.topic) && d.redelivered && laterLife) continue;
      const start = laterLife ? ix.lives.get(d.node)![ix.lifeAt(d.node, d.i)]!.start : undefined;
      out.push({
        rule: 'duplicate',
        message:
          `${d.node} delivered ${d.id} on ${d.topic} twice` +
          (ix.durableTopics.has(d.topic)
            ? d.redelivered
              ? ' (flagged redelivered, but in the same life)'
              : ' (the second copy is not flagged redelivered)'
            : ' (not a durable topic)'),
        excerpt: byIndex([prev, start, d]),
      });
    }
  }
  return out;
}

function checkOrder(ix: Index): Violation[] {
  const out: Violation[] = [];
  const last = new Map<string, Ev<'deliver'>>();
  for (const e of ix.events) {
    if (e.kind !== 'deliver' || !ix.durableTopics.has(e.topic)) continue;
    const id = parseMessageId(e.id);
    if (id === null) continue;
    const key = `${e.node}\0${ix.lifeAt(e.node, e.i)}\0${e.topic}\0${id.origin}\0${id.epoch}`;
    const prev = last.get(key);
    last.set(key, e);
    if (prev !== undefined && parseMessageId(prev.id)!.seq >= id.seq) {
      out.push({
        rule: 'order',
        message: `${e.node} delivered ${e.id} after ${prev.id} (durable per-origin order)`,
        excerpt: [prev, e],
      });
    }
  }
  return out;
}

/** The topics `node` subscribes in `life`. */
function subscribed(life: Life, topic: string): boolean {
  return life.start.topics.includes(topic) || life.start.durable.includes(topic);
}

function checkPlainComplete(ix: Index, config: CheckerConfig): Violation[] {
  const out: Violation[] = [];
  for (const ack of ix.acks.values()) {
    if (ix.durableTopics.has(ack.topic)) continue;
    const request = ix.publishes
      .get(publishKey(ack.node, ack.topic, ack.data))
      ?.find((p) => p.i < ack.i);
    const from = request?.at ?? ack.at;
    const to = ack.at + config.deliveryBoundMs;
    const copies = ix.deliveries.get(messageKey(ack.topic, ack.id)) ?? [];
    const got = new Set(copies.map((d) => d.node));
    for (const x of ix.nodes) {
      if (got.has(x)) continue;
      const life = ix.runningAt(x, from);
      if (life === undefined || !subscribed(life, ack.topic)) continue;
      const points = [from];
      for (const e of ix.effects) if (e.startAt > from && e.startAt <= to) points.push(e.startAt);
      if (!points.every((t) => ix.connected(ack.node, x, t))) continue;
      if (ix.heldDead(ack.node, x, from, to)) continue;
      const elsewhere = copies[0];
      out.push({
        rule: 'missing',
        message: `${x} never delivered ${ack.id} on ${ack.topic}, though it was up, subscribed and connected to ${ack.node} from the publish until ${config.deliveryBoundMs.toString()} ms after its ack`,
        excerpt: byIndex([request, life.start, ack, elsewhere]),
      });
    }
  }
  return out;
}

function checkDurableComplete(ix: Index): Violation[] {
  const out: Violation[] = [];
  for (const ack of ix.acks.values()) {
    if (!ix.durableTopics.has(ack.topic)) continue;
    const copies = ix.deliveries.get(messageKey(ack.topic, ack.id)) ?? [];
    const got = new Set(copies.map((d) => d.node));
    for (const [x, lives] of ix.lives) {
      if (got.has(x) || !lives.some((l) => l.start.durable.includes(ack.topic))) continue;
      out.push({
        rule: 'durable-missing',
        message: `${x} never delivered ${ack.id} on durable topic ${ack.topic} in any of its ${lives.length.toString()} lives`,
        excerpt: byIndex([ack, ...lives.map((l) => l.start), ...lives.map((l) => l.exit)]),
      });
    }
  }
  return out;
}

function checkDeaths(ix: Index, config: CheckerConfig): Violation[] {
  const out: Violation[] = [];
  const minLasting = config.suspicionMinMs - config.refuteSlackMs;
  for (const m of ix.members) {
    if (m.change !== 'fail' || m.member === m.node) continue;
    const why = ix.effects.find(
      (e) =>
        involves(e, m.member) &&
        e.startAt + config.suspicionMinMs <= m.at &&
        m.at <= e.effectEnd + config.refuteGraceMs &&
        e.healAt - e.startAt >= minLasting,
    );
    const stale =
      why === undefined
        ? ix.members.find(
            (s) =>
              s.change === 'suspect' &&
              s.member === m.member &&
              s.at <= m.at &&
              m.at <= s.at + config.refuteGraceMs &&
              !ix.connected(s.node, m.member, s.at),
          )
        : undefined;
    if (why === undefined && stale === undefined) {
      const near = ix.effects
        .filter((e) => involves(e, m.member) && e.startAt <= m.at)
        .sort((a, b) => b.startAt - a.startAt)[0];
      out.push({
        rule: 'unjustified-death',
        message:
          near === undefined
            ? `${m.node} declared ${m.member} dead, but no fault of ${m.member} came before`
            : `${m.node} declared ${m.member} dead ${(m.at - near.startAt).toString()} ms after its fault began (${near.healAt === Infinity ? 'not healed' : `it lasted ${(near.healAt - near.startAt).toString()} ms`}); the bound is ${config.suspicionMinMs.toString()} ms and a fault must last ${minLasting.toString()} ms`,
        excerpt: byIndex([near?.begin, near?.end, m]),
      });
      continue;
    }
    if (why === undefined) continue;
    if (why.healAt === Infinity || ix.runningAt(m.node, Infinity) === undefined) continue;
    const back = ix.members.find(
      (j) => j.i > m.i && j.node === m.node && j.member === m.member && j.change === 'join',
    );
    const deadline = Math.max(m.at, why.healAt) + config.rejoinBoundMs;
    if (back === undefined || back.at > deadline) {
      out.push({
        rule: 'no-rejoin',
        message: `${m.node} declared ${m.member} dead and ${back === undefined ? 'never saw it again' : `saw it again only ${(back.at - why.healAt).toString()} ms after the heal`} (bound ${config.rejoinBoundMs.toString()} ms)`,
        excerpt: byIndex([why.begin, m, why.end, back]),
      });
    }
  }
  return out;
}

function checkPauses(ix: Index, config: CheckerConfig): Violation[] {
  const out: Violation[] = [];
  for (const e of ix.effects) {
    if (e.fault.type !== 'pause' || e.healAt - e.startAt < config.detectionBoundMs) continue;
    const x = e.fault.node;
    for (const y of ix.nodes) {
      if (y === x) continue;
      const life = ix.runningAt(y, e.startAt);
      if (life === undefined || (life.exit !== undefined && life.exit.at < e.healAt)) continue;
      const seen = ix.members.some(
        (m) =>
          m.node === y &&
          m.member === x &&
          m.change === 'fail' &&
          m.at >= e.startAt &&
          m.at <= e.healAt + config.refuteGraceMs,
      );
      if (!seen) {
        out.push({
          rule: 'undetected-pause',
          message: `${x} was paused ${(e.healAt - e.startAt).toString()} ms (detection bound ${config.detectionBoundMs.toString()} ms) and ${y} never declared it dead`,
          excerpt: byIndex([e.begin, e.end]),
        });
      }
    }
  }
  return out;
}

/** One event as a line: `+12.345s n2 deliver dur n0/1/15 "n0:dur:15"`. */
export function formatEvent(e: HistoryEvent, t0: number): string {
  const t = `+${((e.at - t0) / 1000).toFixed(3)}s`;
  switch (e.kind) {
    case 'start':
      return `${t} ${e.node} start topics=${e.topics.join(',')} durable=${e.durable.join(',')}`;
    case 'ready':
      return `${t} ${e.node} ready`;
    case 'exit':
      return `${t} ${e.node} exit code=${String(e.code)} signal=${String(e.signal)}`;
    case 'publish':
      return `${t} ${e.node} publish ${e.topic} ${JSON.stringify(e.data)}`;
    case 'ack':
      return `${t} ${e.node} ack ${e.topic} ${e.id} ${JSON.stringify(e.data)}`;
    case 'publish-error':
      return `${t} ${e.node} publish-error ${e.topic} ${JSON.stringify(e.data)}: ${e.error}`;
    case 'deliver':
      return `${t} ${e.node} deliver ${e.topic} ${e.id} ${JSON.stringify(e.data)}${e.redelivered ? ' redelivered' : ''}`;
    case 'member':
      return `${t} ${e.node} sees ${e.member} ${e.change}`;
    case 'fault':
      return `${t} fault #${e.faultId.toString()} ${describeFault(e.fault)}`;
    case 'heal':
      return `${t} heal #${e.faultId.toString()}`;
    case 'recovered':
      return `${t} recovered (every node alive everywhere, every topic's peers known)`;
    case 'durable':
      return `${t} ${e.node} ${e.type} ${e.topic} ${e.peer} records=${e.records.toString()}`;
  }
}

/** A fault in words. */
export function describeFault(f: Fault): string {
  switch (f.type) {
    case 'partition':
      return `partition ${f.sides[0].join(',')} | ${f.sides[1].join(',')}`;
    case 'oneway':
      return `one-way: ${f.from} -> ${f.to} dropped`;
    case 'loss':
      return `loss ${f.percent.toString()}% into ${f.node}`;
    default:
      return `${f.type} ${f.node}`;
  }
}

/** A violation with its excerpt, times relative to `t0` (the history's first event). */
export function formatViolation(v: Violation, t0: number): string {
  return [
    `VIOLATION ${v.rule}: ${v.message}`,
    ...v.excerpt.map((e) => `  ${formatEvent(e, t0)}`),
  ].join('\n');
}

/** Every violation formatted, at most `limit` of them, and how many rules broke how often. */
export function formatViolations(
  events: readonly HistoryEvent[],
  violations: readonly Violation[],
  limit = 10,
): string {
  const t0 = events[0]?.at ?? 0;
  const counts = new Map<string, number>();
  for (const v of violations) counts.set(v.rule, (counts.get(v.rule) ?? 0) + 1);
  const head = `${violations.length.toString()} violation(s): ${[...counts].map(([r, n]) => `${r} ${n.toString()}`).join(', ')}`;
  const shown = violations.slice(0, limit).map((v) => formatViolation(v, t0));
  const more =
    violations.length > limit ? [`... and ${(violations.length - limit).toString()} more`] : [];
  return [head, ...shown, ...more].join('\n');
}
