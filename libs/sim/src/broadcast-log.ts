/**
 * Raw per-broadcast counters collected while a simulation runs; {@link summarizeRun} turns them
 * into the paper's metrics afterwards.
 */
export class BroadcastLog {
  private readonly keyToIndex = new Map<string, number>();
  /** Simulated time each broadcast was issued. */
  readonly issueMs: number[] = [];
  /** Topic index of each broadcast. */
  readonly topic: number[] = [];
  /** Origin node of each broadcast. */
  readonly origin: number[] = [];
  /** Frames carrying the payload (GRAFT/IWANT answers included), counted when sent. */
  readonly payloadTx: number[] = [];
  /** Nodes that delivered, the origin included. */
  readonly deliveries: number[] = [];
  /** Hop count of the latest delivery (the paper's Last Delivery Hop). */
  readonly lastDeliveryHops: number[] = [];
  /** Time of the latest delivery. */
  readonly lastDeliveryMs: number[] = [];
  /** Largest hop count over deliveries. */
  readonly maxHops: number[] = [];
  /** Sum of delivery latencies, the origin excluded. */
  readonly latencySumMs: number[] = [];
  /** Largest delivery latency. */
  readonly latencyMaxMs: number[] = [];
  /** Second deliveries of the same broadcast at one node (a protocol bug when non-zero). */
  readonly duplicateDeliveries: number[] = [];
  /** Per broadcast, one byte per node: 1 once the node delivered. */
  readonly delivered: Uint8Array[] = [];

  constructor(private readonly nodes: number) {}

  /** Number of broadcasts issued. */
  get count(): number {
    return this.issueMs.length;
  }

  /** Start tracking a broadcast; the origin counts as delivered at issue. Returns its index. */
  register(key: string, issueMs: number, topic: number, origin: number): number {
    const i = this.issueMs.length;
    this.keyToIndex.set(key, i);
    this.issueMs.push(issueMs);
    this.topic.push(topic);
    this.origin.push(origin);
    this.payloadTx.push(0);
    this.deliveries.push(1);
    this.lastDeliveryHops.push(0);
    this.lastDeliveryMs.push(issueMs);
    this.maxHops.push(0);
    this.latencySumMs.push(0);
    this.latencyMaxMs.push(0);
    this.duplicateDeliveries.push(0);
    const d = new Uint8Array(this.nodes);
    d[origin] = 1;
    this.delivered.push(d);
    return i;
  }

  /** The broadcast with this message key, or undefined for a message the harness did not issue. */
  indexOf(key: string): number | undefined {
    return this.keyToIndex.get(key);
  }

  /** Count one payload frame of broadcast `i`. */
  payloadSent(i: number): void {
    this.payloadTx[i]!++;
  }

  /** Record that `node` delivered broadcast `i` after `hops` hops at `nowMs`. */
  deliveredAt(i: number, node: number, hops: number, nowMs: number): void {
    if (node === this.origin[i]) return; // counted at issue
    const d = this.delivered[i]!;
    if (d[node] === 1) {
      this.duplicateDeliveries[i]!++;
      return;
    }
    d[node] = 1;
    this.deliveries[i]!++;
    const latency = nowMs - this.issueMs[i]!;
    this.latencySumMs[i]! += latency;
    if (latency > this.latencyMaxMs[i]!) this.latencyMaxMs[i] = latency;
    if (hops > this.maxHops[i]!) this.maxHops[i] = hops;
    if (nowMs >= this.lastDeliveryMs[i]!) {
      this.lastDeliveryMs[i] = nowMs;
      this.lastDeliveryHops[i] = hops;
    }
  }
}
