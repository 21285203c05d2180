import 'reflect-metadata';
import { IsBoolean, IsInt, IsString, Max, Min } from 'class-validator';
import { presetResolver, ProblemListError, ResolvedMarks } from '@plumtree/common';
import type { Problem, Resolved } from '@plumtree/common';

/** Lowest memberlist protocol version this implementation understands (memberlist `ProtocolVersionMin`). */
export const PROTOCOL_VERSION_MIN = 1;
/**
 * Protocol version memberlist speaks by default (`ProtocolVersion2Compatible`): version 3 added TCP
 * pings, 4 nacks, 5 CRC checksums, but peers keep speaking 2 so old members can still join.
 */
export const PROTOCOL_VERSION_2_COMPATIBLE = 2;
/** Highest memberlist protocol version this implementation understands (memberlist `ProtocolVersionMax`). */
export const PROTOCOL_VERSION_MAX = 5;
/** Largest node meta accepted, in bytes (memberlist `MetaMaxSize`). */
export const META_MAX_SIZE = 512;

/** Names of the configuration presets, after memberlist's `Default{LAN,WAN,Local}Config`. */
export const SWIM_PRESETS = ['lan', 'wan', 'local'] as const;
/** A preset name. */
export type SwimPresetName = (typeof SWIM_PRESETS)[number];

/**
 * Configuration of the SWIM core. Times are milliseconds, sizes bytes, as the names say.
 *
 * The defaults are memberlist's `DefaultLANConfig()`; {@link SwimConfig.wan} and
 * {@link SwimConfig.local} change the same fields memberlist's `DefaultWANConfig()` and
 * `DefaultLocalConfig()` change. Fields that memberlist keeps but that belong to the shell (keyring,
 * logger, DNS, transport, CIDR filter) are not here. Build a checked one with
 * {@link resolveSwimConfig}.
 */
export class SwimConfig {
  /** This node's name; unique in the cluster. memberlist defaults to the hostname; required here. */
  @IsString() name = '';
  /** Address the shell binds UDP and TCP to. Default `0.0.0.0`. */
  @IsString() bindAddr = '0.0.0.0';
  /** Port of UDP and TCP. Also the port assumed for peers speaking protocol < 2. Default 7946. */
  @IsInt() @Min(0) @Max(65535) bindPort = 7946;
  /** Address advertised to peers (NAT traversal); empty means the bound one. Default empty. */
  @IsString() advertiseAddr = '';
  /** Port advertised to peers. Default 7946. */
  @IsInt() @Min(0) @Max(65535) advertisePort = 7946;
  /** Protocol version spoken, within [1, 5]. Default 2 (memberlist `ProtocolVersion2Compatible`). */
  @IsInt() @Min(PROTOCOL_VERSION_MIN) @Max(PROTOCOL_VERSION_MAX) protocolVersion =
    PROTOCOL_VERSION_2_COMPATIBLE;
  /** Delegate (application) protocol version spoken. Default 0 (no version checking). */
  @IsInt() @Min(0) @Max(255) delegateProtocolVersion = 0;
  /** Lowest delegate protocol version understood. Default 0. */
  @IsInt() @Min(0) @Max(255) delegateProtocolMin = 0;
  /** Highest delegate protocol version understood. Default 0. */
  @IsInt() @Min(0) @Max(255) delegateProtocolMax = 0;
  /**
   * Timeout of a stream (TCP) exchange: push-pull, reliable user message, and the deadline the shell
   * puts on connection establishment. LAN 10 s, WAN 30 s, local 1 s.
   */
  @IsInt() @Min(1) tcpTimeoutMs = 10_000;
  /** Members asked to ping a target indirectly after a direct probe fails. LAN 3, local 1. */
  @IsInt() @Min(0) @Max(64) indirectChecks = 3;
  /**
   * Retransmit multiplier of gossiped broadcasts:
   * `retransmits = retransmitMult * ceil(log10(n + 1))`. LAN 4, local 2.
   */
  @IsInt() @Min(1) @Max(64) retransmitMult = 4;
  /**
   * Suspicion multiplier: the minimum suspicion timeout is
   * `suspicionMult * max(1, log10(max(1, n))) * probeIntervalMs`. LAN 4, WAN 6, local 3.
   */
  @IsInt() @Min(1) @Max(64) suspicionMult = 4;
  /**
   * Upper bound of the suspicion timeout as a multiple of the minimum; Lifeguard shrinks from it
   * towards the minimum as independent confirmations arrive. Default 6 (about 120 s at 10k nodes).
   */
  @IsInt() @Min(1) @Max(64) suspicionMaxTimeoutMult = 6;
  /**
   * Period of full state exchange with one random member; 0 disables it. Scaled up above 32 members
   * (see `pushPullScale`). LAN 30 s, WAN 60 s, local 15 s.
   */
  @IsInt() @Min(0) pushPullIntervalMs = 30_000;
  /**
   * Time to wait for a direct ack before asking for indirect probes; the p99 RTT of the network.
   * Not scaled by awareness (memberlist's choice: waiting longer does not help UDP through).
   * LAN 500 ms, WAN 3 s, local 200 ms.
   */
  @IsInt() @Min(1) probeTimeoutMs = 500;
  /**
   * Period of the probe cycle; each probe may take this long (scaled by the awareness score) before
   * the target is suspected; 0 disables probing. LAN 1 s, WAN 5 s, local 1 s.
   */
  @IsInt() @Min(0) probeIntervalMs = 1_000;
  /** Skip the TCP fallback ping that runs beside indirect probes. Default false. */
  @IsBoolean() disableTcpPings = false;
  /**
   * Lifeguard local health: the probe interval is multiplied by `score + 1` with the score capped at
   * `awarenessMaxMultiplier - 1`. Default 8 (probe interval backs off to 8 s).
   */
  @IsInt() @Min(1) @Max(64) awarenessMaxMultiplier = 8;
  /**
   * Not in memberlist (which only confirms a suspicion when a member's round-robin probe happens
   * to reach the suspect): a member that learns of a suspicion from someone else probes the suspect
   * on its next probe tick, with probability `suspicionProbeFanout / (members - 2)`, so about this
   * many independent checks arrive within one probe interval. Confirmations shrink Lifeguard's
   * suspicion timeout to its minimum sooner; a suspect that answers is not confirmed, and the extra
   * load on it is bounded by this number, not by the cluster size. 0 turns it off (memberlist's
   * behaviour). Default 4.
   */
  @IsInt() @Min(0) @Max(64) suspicionProbeFanout = 4;
  /**
   * Not in memberlist: when this node's own suspicion timer declares a member dead, it also sends
   * the `dead` message directly to this many random alive members, beside gossiping it. memberlist
   * gossips it `retransmitLimit` times only, to random members that include the recently dead, so
   * in small clusters a member can miss every copy and sit on its own suspicion until the maximum
   * timeout. 0 turns it off (memberlist's behaviour). Default 4.
   */
  @IsInt() @Min(0) @Max(64) deadNoticeFanout = 4;
  /**
   * Not in memberlist: once a join's push-pull is answered, this node also sends its own `alive`
   * directly to this many random alive members of the state it received, beside gossiping it.
   * memberlist only gossips it (`retransmitLimit` copies to random members, re-gossiped by those
   * that learn it), which misses a member now and then, and that member then lists the joiner only
   * at its next push-pull (15-30 s). Each member the joiner learns from its seed was admitted by the
   * seed before it, and hears of the joiner directly; each admitted after it gets the joiner in the
   * seed's state: every pair is covered at once. 0 turns it off (memberlist's behaviour).
   * Default 64 (every member of clusters up to 65; the simulator's formation runs, 50 nodes
   * started within 2 s: 32 left one run in eight waiting for a push-pull, 64 none).
   */
  @IsInt() @Min(0) @Max(1024) joinNoticeFanout = 64;
  /**
   * Not in memberlist: a push-pull with the seed that answered the join this long after it (then
   * the regular `pushPullIntervalMs` cycle with random members), so members admitted by the seed
   * while this node's own join was under way (two joining it at the same moment miss each other
   * in its answers) are learnt at once, not a push-pull interval later. 0 turns it off
   * (memberlist's behaviour). Default 1,000.
   */
  @IsInt() @Min(0) joinPushPullDelayMs = 1_000;
  /**
   * Not in memberlist: an `alive` broadcast (a join, a refutation, a meta update) is sent at least
   * this many times, whatever `retransmitMult * ceil(log10(n + 1))` gives. memberlist's limit is
   * 2 with `local` below 10 members and 4 up to 99: gossip in which every member forwards a news
   * k times leaves about `e^-k` of the members without it, and each of those lists the joiner only
   * at its next push-pull. 8 is what `lan` gives from 10 to 99 members; the simulator's formation
   * runs (10 and 50 nodes, 5 % loss, `local`) went from up to 15 s to within 0.6 s. 0 turns it
   * off (memberlist's behaviour). Default 8.
   */
  @IsInt() @Min(0) @Max(64) aliveRetransmitFloor = 8;
  /**
   * Not in memberlist: a probe with no direct ack whose TCP fallback was refused (host up, nothing
   * listening: the process is gone) and whose helpers all sent nacks ends at once with a suspicion,
   * instead of waiting out the probe interval. false is memberlist's behaviour. Default true.
   */
  @IsBoolean() suspectOnRefusedFallback = true;
  /** Members gossiped to every gossip interval. LAN 3, WAN 4. */
  @IsInt() @Min(0) @Max(64) gossipNodes = 3;
  /** Period of gossip not piggybacked on probes; 0 disables it. LAN 200 ms, WAN 500 ms, local 100 ms. */
  @IsInt() @Min(0) gossipIntervalMs = 200;
  /**
   * How long a dead member still receives gossip (so it can refute) and stays before being reaped.
   * LAN 30 s, WAN 60 s, local 15 s.
   */
  @IsInt() @Min(0) gossipToTheDeadTimeMs = 30_000;
  /** Require incoming gossip to be encrypted when a keyring is set (shell concern). Default true. */
  @IsBoolean() gossipVerifyIncoming = true;
  /** Encrypt outgoing gossip when a keyring is set (shell concern). Default true. */
  @IsBoolean() gossipVerifyOutgoing = true;
  /** LZW-compress packets when it makes them smaller (codec concern). Default true. */
  @IsBoolean() enableCompression = true;
  /** Depth of the shell's queue of received alive/suspect/dead/user messages. Default 1024. */
  @IsInt() @Min(1) handoffQueueDepth = 1_024;
  /**
   * Inbound TCP streams (push-pull, fallback ping, reliable user message) served at once; one
   * more is closed unread and counted (`stream:too-many-streams`). Each may buffer up to the
   * transport's `maxStreamBytes` (20 MiB), so this bounds what peers can make the node hold.
   * Memberlist serves every stream it accepts; refusing is a closed connection, which its dialer
   * treats as a failed stream (it retries the push-pull later). Default 64 (shell concern).
   */
  @IsInt() @Min(1) maxInboundStreams = 64;
  /** Largest packet the core fills with messages and piggybacked broadcasts. Default 1400 bytes. */
  @IsInt() @Min(64) @Max(65_507) udpBufferSize = 1_400;
  /**
   * How long after its death a member's name may be reclaimed by an alive message from another
   * address; 0 (default) means never: such a message is a name conflict.
   */
  @IsInt() @Min(0) deadNodeReclaimTimeMs = 0;
  /** Refuse to send to an address without a node name. Default false. */
  @IsBoolean() requireNodeNames = false;

  /** memberlist `DefaultLANConfig()`: the defaults. */
  static lan(): SwimConfig {
    return new SwimConfig();
  }

  /** memberlist `DefaultWANConfig()`: longer timeouts, more gossip fanout, less frequent gossip. */
  static wan(): SwimConfig {
    return Object.assign(new SwimConfig(), {
      tcpTimeoutMs: 30_000,
      suspicionMult: 6,
      pushPullIntervalMs: 60_000,
      probeTimeoutMs: 3_000,
      probeIntervalMs: 5_000,
      gossipNodes: 4,
      gossipIntervalMs: 500,
      gossipToTheDeadTimeMs: 60_000,
    } satisfies Partial<SwimConfig>);
  }

  /** memberlist `DefaultLocalConfig()`: loopback, fast timeouts, fewer retransmits. */
  static local(): SwimConfig {
    return Object.assign(new SwimConfig(), {
      tcpTimeoutMs: 1_000,
      indirectChecks: 1,
      retransmitMult: 2,
      suspicionMult: 3,
      pushPullIntervalMs: 15_000,
      probeTimeoutMs: 200,
      probeIntervalMs: 1_000,
      gossipIntervalMs: 100,
      gossipToTheDeadTimeMs: 15_000,
    } satisfies Partial<SwimConfig>);
  }

  /** The preset of that name (each preset is the static factory of that name). */
  static preset(name: SwimPresetName): SwimConfig {
    return SwimConfig[name]();
  }
}

/** Configuration as a user writes it: an optional preset (default `lan`) plus overrides. */
export type SwimConfigInput = Partial<SwimConfig> & { preset?: SwimPresetName };

/** One invalid field (the shared problem shape of `@plumtree/common`). */
export type SwimConfigProblem = Problem;

/** Thrown once for an invalid configuration; lists every bad field. */
export class SwimConfigError extends ProblemListError {
  override readonly name = 'SwimConfigError';
  constructor(problems: readonly SwimConfigProblem[]) {
    super('SWIM configuration', problems);
  }
}

/** A configuration {@link resolveSwimConfig} returned: checked, frozen, taken as it is below. */
export type ResolvedSwimConfig = Resolved<SwimConfig>;

const KNOWN_FIELDS: ReadonlySet<string> = new Set(Object.keys(new SwimConfig()));
const RESOLVED = new ResolvedMarks<SwimConfig>();

/**
 * Build a checked configuration: start from `input.preset` (default `lan`), apply the overrides,
 * validate every field and the pairs that must agree. Throws one {@link SwimConfigError} naming
 * every problem: unknown preset, unknown field, wrong type, out-of-range value, inconsistent pair.
 * A configuration this function returned is returned as it is (it was checked at the edge).
 */
export const resolveSwimConfig: (input?: SwimConfigInput | SwimConfig) => ResolvedSwimConfig =
  presetResolver({
    presets: SWIM_PRESETS,
    defaultPreset: 'lan',
    preset: SwimConfig.preset,
    fields: KNOWN_FIELDS,
    marks: RESOLVED,
    crossChecks: swimCrossChecks,
    error: (problems) => new SwimConfigError(problems),
  });

/** The pairs of fields that must agree, and the name a node must have. */
function swimCrossChecks(base: SwimConfig): Problem[] {
  const problems: Problem[] = [];
  if (typeof base.name === 'string' && base.name.length === 0) {
    problems.push({
      field: 'name',
      message: 'must be a non-empty node name, unique in the cluster',
    });
  }
  if (base.probeIntervalMs > 0 && base.probeTimeoutMs > base.probeIntervalMs) {
    // The indirect phase runs between the probe timeout and the end of the probe interval.
    problems.push({ field: 'probeTimeoutMs', message: 'must not exceed probeIntervalMs' });
  }
  if (base.delegateProtocolMin > base.delegateProtocolMax) {
    problems.push({ field: 'delegateProtocolMin', message: 'must not exceed delegateProtocolMax' });
  }
  if (
    base.delegateProtocolVersion < base.delegateProtocolMin ||
    base.delegateProtocolVersion > base.delegateProtocolMax
  ) {
    problems.push({
      field: 'delegateProtocolVersion',
      message: 'must lie within [delegateProtocolMin, delegateProtocolMax]',
    });
  }
  return problems;
}

/**
 * `config` with the addresses only known once the transport is bound (the bound port, the
 * advertised address and port), resolved: the values come from the socket and from node options
 * already checked, so nothing is validated again.
 */
export function withBoundAddress(
  config: ResolvedSwimConfig,
  bound: Pick<SwimConfig, 'bindPort' | 'advertiseAddr' | 'advertisePort'>,
): ResolvedSwimConfig {
  return RESOLVED.mark(Object.assign(new SwimConfig(), config, bound));
}
