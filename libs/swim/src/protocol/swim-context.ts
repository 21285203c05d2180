/**
 * What the parts of the SWIM core share: the configuration and the injected randomness, the
 * member table, the one timer table, the output queues the shell polls, the drop counters, the
 * clock as the core last saw it, and the streams handed out and not yet answered. Probing
 * (`probing.ts`), the membership rules (`member-state.ts`) and dissemination (`dissemination.ts`)
 * each work on one of these; {@link SwimCore} owns it and drains its queues.
 */
import type { Rng } from '@plumtree/common';
import type { SwimConfig } from '../config/swim-config.js';
import type { Message, Ping } from '../wire/messages.js';
import { addressOf, type SwimAddress } from './address.js';
import type { MemberTable } from './member-table.js';
import { TimerTable } from './timer-table.js';
import type {
  SwimDelegate,
  SwimDropReason,
  SwimEvent,
  SwimStreamRequest,
  SwimTransmit,
} from './types.js';

/** A stream the core asked the shell for, by request id, until its outcome comes back. */
export type PendingStream =
  | { readonly kind: 'push-pull'; readonly to: SwimAddress; readonly join: boolean }
  | { readonly kind: 'ping'; readonly probeSeqNo: number }
  | { readonly kind: 'user'; readonly to: SwimAddress };

const ALL_DROP_REASONS: readonly SwimDropReason[] = [
  'ping-wrong-node',
  'stale-ack',
  'error-response',
  'bad-protocol-version',
  'alive-filtered',
  'merge-rejected',
  'incompatible-protocol',
  'unknown-stream',
];

/** The local node as peers address it. */
export interface LocalNode {
  readonly name: string;
  readonly addr: Uint8Array;
  readonly port: number;
}

/** The shared state of one SWIM core (see the file header). */
export class SwimContext {
  readonly timers = new TimerTable();
  readonly transmits: SwimTransmit[] = [];
  readonly streamRequests: SwimStreamRequest[] = [];
  readonly events: SwimEvent[] = [];
  readonly pendingStreams = new Map<number, PendingStream>();
  readonly drops = Object.fromEntries(ALL_DROP_REASONS.map((r) => [r, 0])) as Record<
    SwimDropReason,
    number
  >;
  private sequenceNum = 0;
  private streamId = 0;

  constructor(
    readonly config: SwimConfig,
    readonly rng: Rng,
    readonly delegate: SwimDelegate,
    readonly local: LocalNode,
    readonly table: MemberTable,
    /** The clock as of the last input; never runs backwards. */
    public now: number,
  ) {}

  /** Count a dropped input. */
  drop(reason: SwimDropReason): void {
    this.drops[reason]++;
  }

  /** The next probe or ping sequence number (a u32 that wraps, as memberlist's). */
  nextSeqNo(): number {
    this.sequenceNum = (this.sequenceNum + 1) >>> 0;
    return this.sequenceNum;
  }

  /** Record a stream the core asks for and queue its request; returns the request id. */
  openStream(pending: PendingStream, request: (id: number) => SwimStreamRequest): number {
    const id = ++this.streamId;
    this.pendingStreams.set(id, pending);
    this.streamRequests.push(request(id));
    return id;
  }

  /** A ping from the local node to `node`. */
  makePing(seqNo: number, node: string): Ping {
    return {
      SeqNo: seqNo,
      Node: node,
      SourceAddr: this.local.addr,
      SourcePort: this.local.port,
      SourceNode: this.local.name,
    };
  }

  /** A packet of `messages` alone (no piggyback) to a member, with a CRC when it speaks protocol 5. */
  transmitTo(
    n: {
      readonly addr: Uint8Array;
      readonly port: number;
      readonly name: string;
      readonly pMax: number;
    },
    messages: Message[],
  ): void {
    this.transmits.push({
      to: { addr: addressOf(n.addr, n.port), name: n.name },
      messages,
      crc: n.pMax >= 5,
    });
  }
}
