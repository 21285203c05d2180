/**
 * Who may send frames to this node: the member check of accepted frame connections.
 *
 * A connection whose handshake named its dialer (see frame-handshake.ts) is a claim. The claim is
 * admitted when the name is an alive or suspect SWIM member other than this node (the host's
 * `resolve` gives its address) and, with `sourceCheck: 'address'`, the connection comes from that
 * member's advertised IP. A name that is not (yet) a member is held: a node that just joined dials
 * before every member heard of it, so the claim waits until `recheck` (called on membership
 * events) finds the member, or is refused after `pendingMemberMs`. A member whose IP differs is
 * refused at once (SWIM keeps an alive member's address until it is dead: memberlist refuses the
 * conflicting one).
 *
 * Everything is bounded: claims per claimed name and held claims in total are capped, and the
 * transport caps what a held connection may send before it is answered. Each refusal is counted
 * by reason and logged once per (reason, name, source IP), with a bounded set of logged keys.
 */
import { formatIp, parseIp, splitHostPort } from '@plumtree/swim';

/**
 * How an accepted frame connection is bound to the member it claims to be:
 * - `'address'` (default): the name must be an alive (or suspect) member and the connection's
 *   source IP the IP of that member's advertised address;
 * - `'member-only'`: the name must be an alive (or suspect) member, from any address. For nodes
 *   behind NAT or a proxy, whose connections do not come from the address they advertise;
 *   anyone who can reach the port can then claim a member's name unless a keyring is set.
 */
export type FrameSourceCheck = 'address' | 'member-only';

/**
 * Why an accepted frame connection was refused (and closed):
 * - `not-member`: the claimed name did not become an alive member within `pendingMemberMs`, or
 *   names this node;
 * - `address`: the claimed member's advertised IP is not the connection's source IP;
 * - `handshake-failed`: a malformed or refused handshake (a wrong key, a replayed proof);
 * - `replay`: a sealed batch did not open on an authenticated connection (replayed, reordered,
 *   copied from another connection, or tampered with);
 * - `pending-overflow`: the held connections were at their cap, or a held connection sent more
 *   than `maxPendingBytes` before it was answered;
 * - `peer-cap`: the claimed name already had `maxInboundPerPeer` connections;
 * - `total-cap`: this node already had `maxInboundConnections` accepted frame connections.
 */
export type InboundRefusal =
  | 'not-member'
  | 'address'
  | 'handshake-failed'
  | 'replay'
  | 'pending-overflow'
  | 'peer-cap'
  | 'total-cap';

/** Every {@link InboundRefusal}, to start each count at zero. */
export const INBOUND_REFUSALS: readonly InboundRefusal[] = [
  'not-member',
  'address',
  'handshake-failed',
  'replay',
  'pending-overflow',
  'peer-cap',
  'total-cap',
];

/** Keys of refusals already logged, at most; beyond it, refusals are only counted. */
const MAX_LOGGED_KEYS = 1024;

/** What the gate needs from its transport. */
export interface MemberGateOptions {
  readonly localName: string;
  /** An alive or suspect member's `host:port`; undefined for anyone else. */
  readonly resolve: (peer: string) => string | undefined;
  readonly sourceCheck: FrameSourceCheck;
  readonly pendingMemberMs: number;
  readonly maxPendingConnections: number;
  readonly maxInboundPerPeer: number;
  /** One line per refused (reason, name, source IP), once. */
  readonly log: ((line: string) => void) | undefined;
}

/** An accepted connection whose dialer named itself, as the gate sees it. */
export interface Claimant {
  readonly name: string;
  /** The connection's remote `host:port`. */
  readonly from: string;
  /** The member check passed: answer the handshake and deliver. */
  admit(): void;
  /** Refused: close the connection. */
  close(): void;
}

/** The IP of `host:port` in one spelling (an IPv4-mapped IPv6 address as IPv4). */
function hostOf(address: string): string | undefined {
  let host = splitHostPort(address)?.host;
  if (host === undefined) return undefined;
  // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d.
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(host)) host = host.slice(7);
  const ip = parseIp(host);
  return ip === null ? host.toLowerCase() : formatIp(ip);
}

/** See the file comment. */
export class MemberGate {
  /** Refused connections by reason. */
  readonly refused: Record<InboundRefusal, number>;
  /** Claims held until their name becomes a member, and their deadlines. */
  private readonly held = new Map<Claimant, NodeJS.Timeout>();
  /** Claims not yet released, per claimed name (for the per-peer cap). */
  private readonly perName = new Map<string, number>();
  private readonly claims = new Set<Claimant>();
  private readonly logged = new Set<string>();

  constructor(private readonly o: MemberGateOptions) {
    this.refused = Object.fromEntries(INBOUND_REFUSALS.map((r) => [r, 0])) as Record<
      InboundRefusal,
      number
    >;
  }

  /** Held claims now. */
  get heldCount(): number {
    return this.held.size;
  }

  /** A connection named its dialer: admit it, hold it, or refuse it. */
  claim(c: Claimant): void {
    const n = this.perName.get(c.name) ?? 0;
    if (n >= this.o.maxInboundPerPeer) {
      this.refuseUnclaimed('peer-cap', c.name, c.from);
      c.close();
      return;
    }
    this.perName.set(c.name, n + 1);
    this.claims.add(c);
    const verdict = this.check(c);
    if (verdict === 'admit') {
      c.admit();
    } else if (verdict === 'address' || c.name === this.o.localName) {
      this.refuse(c, verdict === 'address' ? 'address' : 'not-member');
    } else if (this.held.size >= this.o.maxPendingConnections) {
      this.refuse(c, 'pending-overflow');
    } else {
      const timer = setTimeout(() => {
        if (this.held.delete(c)) this.refuse(c, 'not-member');
      }, this.o.pendingMemberMs);
      timer.unref();
      this.held.set(c, timer);
    }
  }

  /** Whether `c` is held, waiting for its name to become a member. */
  isHeld(c: Claimant): boolean {
    return this.held.has(c);
  }

  /** Membership changed: admit the held claims whose member appeared, refuse wrong sources. */
  recheck(): void {
    if (this.held.size === 0) return;
    for (const [c, timer] of [...this.held]) {
      const verdict = this.check(c);
      if (verdict === 'not-member') continue;
      clearTimeout(timer);
      this.held.delete(c);
      if (verdict === 'admit') c.admit();
      else this.refuse(c, 'address');
    }
  }

  /** Refuse a claim (counted, logged once) and close its connection. */
  refuse(c: Claimant, reason: InboundRefusal): void {
    this.refuseUnclaimed(reason, c.name, c.from);
    this.release(c);
    c.close();
  }

  /** Count (and log once) a refusal of a connection that made no claim, or is closed already. */
  refuseUnclaimed(reason: InboundRefusal, name: string | null, from: string): void {
    this.refused[reason]++;
    if (this.o.log === undefined) return;
    const ip = hostOf(from) ?? from;
    const key = `${reason}\u0000${name ?? ''}\u0000${ip}`;
    if (this.logged.has(key) || this.logged.size >= MAX_LOGGED_KEYS) return;
    this.logged.add(key);
    const who = name === null ? '' : ` claiming to be '${name}'`;
    this.o.log(`refused a frame connection from ${ip}${who}: ${reason}`);
  }

  /** The connection of `c` closed: it no longer counts or waits. Idempotent. */
  release(c: Claimant): void {
    if (!this.claims.delete(c)) return;
    const timer = this.held.get(c);
    if (timer !== undefined) clearTimeout(timer);
    this.held.delete(c);
    const n = (this.perName.get(c.name) ?? 1) - 1;
    if (n <= 0) this.perName.delete(c.name);
    else this.perName.set(c.name, n);
  }

  /** Stop every deadline (the transport is closing and destroys the connections). */
  close(): void {
    for (const timer of this.held.values()) clearTimeout(timer);
    this.held.clear();
  }

  private check(c: Claimant): 'admit' | 'address' | 'not-member' {
    if (c.name === this.o.localName) return 'not-member';
    const address = this.o.resolve(c.name);
    if (address === undefined) return 'not-member';
    if (this.o.sourceCheck === 'member-only') return 'admit';
    const want = hostOf(address);
    return want !== undefined && want === hostOf(c.from) ? 'admit' : 'address';
  }
}
