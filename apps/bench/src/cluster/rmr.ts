/**
 * Relative message redundancy (RMR), the Plumtree paper's measure of a broadcast's waste:
 * `m / (n - 1) - 1`, where `m` is the payload messages every node received and `n - 1` the
 * deliveries a message needs. Counted in messages, not frames: since GOSSIP_RUN frames carry
 * many messages (libs/plumtree/src/wire), one frame received is no longer one payload, and
 * `frames / deliveries - 1` went negative (-0.98 in a burst). Every payload received is either
 * a first copy (a delivery) or a duplicate, so `m = deliveries + duplicates` and
 * `RMR = duplicates / deliveries`: 0 for a perfect tree, `fanout - 1` for flooding.
 *
 * @param duplicates payload messages received for ids already delivered, summed over the nodes
 * @param deliveries first copies delivered to the application, summed over the nodes
 * @returns the RMR, or NaN when nothing was delivered (no ratio to report)
 */
export function relativeMessageRedundancy(duplicates: number, deliveries: number): number {
  return deliveries > 0 ? duplicates / deliveries : Number.NaN;
}
