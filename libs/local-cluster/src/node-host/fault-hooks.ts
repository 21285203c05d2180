/**
 * The real fault hooks of one node process, the ones `createTestCluster` (libs/testing) and the
 * CLI agent's `--fault-control` use: the SWIM transport wrapped in libs/swim's
 * `FilteringTransport` (packet loss both ways, blocked addresses for partitions) and the node's
 * `frameFilter` (outgoing Plumtree frames dropped at a rate). Nothing here is simulated: a lost
 * packet is never written to the socket, a dropped frame never reaches the peer's TCP stream.
 */
import { createRng, type Rng } from '@plumtree/plumtree';
import { FilteringTransport, resolveSwimConfig, UdpTcpTransport } from '@plumtree/swim';
import type { NodeFaults } from '../protocol.js';

/** Binds of a known port tried before a restart gives up, and the base of their backoff. */
const BIND_ATTEMPTS = 5;
const BIND_RETRY_MS = 100;

/** The faults of a node, kept across in-place restarts of its node (each binds a new transport). */
export class FaultHooks {
  private current: NodeFaults;
  private transport: FilteringTransport | undefined;
  private readonly frameRng: Rng;
  private readonly packetRng: Rng;
  /** Frames dropped and packets lost by earlier transports of this process (restarts in place). */
  private lostBefore = 0;

  constructor(faults: NodeFaults, seed: number) {
    this.current = faults;
    this.frameRng = createRng(seed ^ 0x5bd1e995);
    this.packetRng = createRng(seed ^ 0x1b873593);
  }

  /** The faults in force. */
  get faults(): NodeFaults {
    return this.current;
  }

  /**
   * Binds UDP + TCP on `127.0.0.1:port` behind a filter carrying the current faults. The node
   * owns the transport from here (it closes it on leave or close).
   */
  async bind(port: number, swimPreset: 'local'): Promise<FilteringTransport> {
    if (this.transport !== undefined) this.lostBefore += lostPackets(this.transport);
    const base = resolveSwimConfig({ preset: swimPreset, name: 'bind' });
    const bind = () =>
      UdpTcpTransport.bind({
        bindAddr: '127.0.0.1',
        bindPort: port,
        maxPacketBytes: base.udpBufferSize,
        streamTimeoutMs: base.tcpTimeoutMs,
      });
    let inner: UdpTcpTransport | undefined;
    // A restart takes the port back the moment the previous life let it go; should the kernel
    // still hold it, a few short retries (the cluster knows this node by its address).
    for (let attempt = 1; inner === undefined; attempt++) {
      try {
        inner = await bind();
      } catch (e) {
        if (port === 0 || attempt >= BIND_ATTEMPTS) throw e;
        await new Promise((r) => setTimeout(r, BIND_RETRY_MS * attempt));
      }
    }
    const t = new FilteringTransport(inner, { rng: this.packetRng });
    this.transport = t;
    this.applyTo(t);
    return t;
  }

  /** The node's `frameFilter`: false drops the frame (counted by the node). */
  readonly frameFilter = (_peer: string, _frame: Uint8Array): boolean =>
    this.current.frameLoss === 0 || this.frameRng.next() >= this.current.frameLoss;

  /** Sets the faults; a partition's blocks cut the open streams at once. */
  set(faults: NodeFaults): void {
    this.current = { ...faults, blocked: [...faults.blocked] };
    if (this.transport !== undefined) this.applyTo(this.transport);
  }

  /** SWIM packets lost to the loss rate since the process started. */
  packetsLost(): number {
    return this.lostBefore + (this.transport !== undefined ? lostPackets(this.transport) : 0);
  }

  private applyTo(t: FilteringTransport): void {
    t.lossRate = this.current.packetLoss;
    const keep = new Set(this.current.blocked);
    t.unblock(t.blocked().filter((a) => !keep.has(a)));
    if (keep.size > 0) t.block(keep);
  }
}

function lostPackets(t: FilteringTransport): number {
  const s = t.filterStats();
  return s.lostPacketsIn + s.lostPacketsOut;
}
