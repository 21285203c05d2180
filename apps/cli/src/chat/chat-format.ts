/**
 * What the terminal chat shows, as plain strings and colour names (pure, so it is tested
 * without a terminal): a message as the current user's node received it, an event-log line, the
 * status of the current user, a metrics row.
 */
import type { ChatMessage, ClusterEvent, NodeView, RoomView } from '@plumtree/local-cluster';

/** A terminal colour (ink / chalk names). */
export type Colour =
  | 'green'
  | 'yellow'
  | 'cyan'
  | 'magenta'
  | 'red'
  | 'gray'
  | 'white'
  | 'blue'
  | 'greenBright'
  | 'redBright';

/** A line with a colour for its label. */
export interface LogLine {
  readonly time: string;
  readonly node: string;
  readonly label: string;
  readonly colour: Colour;
  readonly text: string;
}

/** `HH:MM:SS` of a time in ms. */
export function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

/** One chat message as `user` saw it: where it came from, or that it did not arrive. */
export function messageLine(
  m: ChatMessage,
  user: string,
): { head: string; text: string; detail: string; received: boolean; catchUp: boolean } {
  const a = m.arrivals.find((x) => x.node === user);
  const head = `${clock(m.publishedAtMs)} ${m.origin}`;
  const reach = `reached ${m.arrivals.length.toString()}`;
  if (a === undefined) {
    return {
      head,
      text: m.text,
      detail: `not received by ${user} · ${reach}`,
      received: false,
      catchUp: false,
    };
  }
  const how =
    a.hops === 0
      ? 'sent here'
      : a.hops < 0
        ? `catch-up from ${a.receivedFrom} · ${a.latencyMs.toString()} ms`
        : `via ${a.receivedFrom} · ${a.hops.toString()} hop${a.hops === 1 ? '' : 's'} · ${a.latencyMs.toString()} ms`;
  return { head, text: m.text, detail: `${how} · ${reach}`, received: true, catchUp: a.hops < 0 };
}

const TREE: Record<string, { label: string; colour: Colour }> = {
  promotion: { label: 'PROMOTE', colour: 'green' },
  demotion: { label: 'DEMOTE', colour: 'yellow' },
  graft: { label: 'GRAFT', colour: 'cyan' },
  prune: { label: 'PRUNE', colour: 'magenta' },
};

const MEMBER: Record<string, { label: string; colour: Colour }> = {
  join: { label: 'JOIN', colour: 'greenBright' },
  suspect: { label: 'SUSPECT', colour: 'yellow' },
  failed: { label: 'FAILED', colour: 'red' },
  left: { label: 'LEFT', colour: 'gray' },
};

/** An event as a log line; undefined for what the log does not show (chat deliveries). */
export function logLine(e: ClusterEvent): LogLine | undefined {
  const time = clock(e.atMs);
  switch (e.kind) {
    case 'cluster':
      return {
        time,
        node: '',
        label: e.level.toUpperCase(),
        colour: e.level === 'error' ? 'redBright' : e.level === 'warn' ? 'yellow' : 'white',
        text: e.text,
      };
    case 'tree': {
      const t = TREE[e.type]!;
      const arrow = e.type === 'graft' || e.type === 'prune' ? '-> ' : '';
      return { time, node: e.node, ...t, text: `${arrow}${e.peer} ${e.topic}` };
    }
    case 'graft-failed':
      return { time, node: e.node, label: 'LOST', colour: 'red', text: `${e.id} ${e.topic}` };
    case 'member':
      return { time, node: e.node, ...MEMBER[e.type]!, text: e.member };
    case 'peer':
      return { time, node: e.node, label: `LINK ${e.type}`, colour: 'gray', text: e.peer };
    default:
      return undefined;
  }
}

/** The state word of a node: OFFLINE when its process is down, else its SWIM state. */
export function nodeState(n: NodeView): { word: string; colour: Colour } {
  switch (n.process) {
    case 'killed':
    case 'exited':
      return { word: 'OFFLINE', colour: 'red' };
    case 'starting':
    case 'restarting':
      return { word: 'STARTING', colour: 'yellow' };
    case 'stopping':
      return { word: 'STOPPING', colour: 'yellow' };
    default:
      return n.swim === 'alive'
        ? { word: 'ONLINE', colour: 'green' }
        : { word: n.swim.toUpperCase(), colour: n.swim === 'suspect' ? 'yellow' : 'red' };
  }
}

/** The status of the current user: its node, state, loss, the tree of the room. */
export function statusLine(n: NodeView, room: RoomView | undefined, eagerAll: boolean): string {
  const loss = Math.round(Math.max(n.faults.packetLoss, n.faults.frameLoss) * 100);
  const tree =
    room === undefined
      ? ''
      : room.spanning
        ? `tree spans ${room.liveMembers.length.toString()} live`
        : `tree in ${room.eagerComponents.toString()} parts`;
  return [
    `you are ${n.name}`,
    nodeState(n).word,
    `loss ${loss.toString()}%`,
    eagerAll ? 'trees all eager' : 'default fanout',
    tree,
  ]
    .filter((s) => s !== '')
    .join(' · ');
}

/** A metrics row: node, state, sent, delivered, dup, GRAFT, PRUNE, RMR, eager/lazy peers in the room. */
export function metricsRow(n: NodeView, room: RoomView | undefined): string[] {
  const c = n.counters;
  const eager =
    room?.edges.filter((e) => e.kind === 'eager' && (e.a === n.name || e.b === n.name)).length ?? 0;
  const lazy =
    room?.edges.filter((e) => e.kind === 'lazy' && (e.a === n.name || e.b === n.name)).length ?? 0;
  return [
    n.name,
    nodeState(n).word.toLowerCase(),
    c.gossipSent.toString(),
    c.delivered.toString(),
    c.duplicates.toString(),
    c.graftsSent.toString(),
    c.prunesSent.toString(),
    n.rmr === null ? '-' : n.rmr.toFixed(2),
    `${eager.toString()}/${lazy.toString()}`,
  ];
}

/** Headers of {@link metricsRow}. */
export const METRICS_HEADERS = [
  'node',
  'state',
  'sent',
  'deliv',
  'dup',
  'GRAFT',
  'PRUNE',
  'RMR',
  'eager/lazy',
];
