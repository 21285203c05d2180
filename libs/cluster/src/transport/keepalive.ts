/** TCP keepalive on frame connections, both directions. */
import type { Duplex } from 'node:stream';

/** So a peer that vanished without FIN/RST is noticed on idle connections. */
const KEEPALIVE_DELAY_MS = 15_000;

/** Turn keepalive on, when the stream is a socket. */
export function setKeepAlive(stream: Duplex): void {
  const s = stream as Duplex & { setKeepAlive?: (on: boolean, delayMs: number) => unknown };
  if (typeof s.setKeepAlive === 'function') s.setKeepAlive(true, KEEPALIVE_DELAY_MS);
}
