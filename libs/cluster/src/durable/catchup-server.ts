/**
 * Catch-up, serving side: a peer's request is answered with one page of the records it lacks,
 * read from the topic's log within the requester's limits, this node's own caps
 * (`serveMaxMessages`, `serveMaxBytes`) and the frame size, whatever the log returned. A node
 * that does not keep the topic durable answers NotDurable, a log that fails to read (or holds a
 * record no frame can carry) Error, so the requester moves on to another peer.
 */
import {
  catchupHeaderBytes,
  catchupRecordBytes,
  CatchupStatus,
  encodeCatchupResponse,
  type CatchupRequest,
} from './catchup-codec.js';
import type { DurableRecord } from './durable-log.js';
import type { ResolvedDurableReplicatorOptions } from './durable-options.js';
import type { TopicState } from './durable-topic-state.js';

/** Answer `req` (for the durable topic `ts`, undefined when not durable here) through `send`. */
export async function serveCatchup(
  ts: TopicState | undefined,
  req: CatchupRequest,
  options: ResolvedDurableReplicatorOptions,
  send: (frame: Uint8Array) => void,
): Promise<void> {
  const reply = (status: CatchupStatus, records: DurableRecord[] = [], more = false): void => {
    send(
      encodeCatchupResponse({
        requestId: req.requestId,
        topic: req.topic,
        status,
        more,
        records,
      }),
    );
  };
  if (ts === undefined) {
    reply(CatchupStatus.NotDurable);
    return;
  }
  ts.stats.requestsServed++;
  const o = options;
  const frameBudget = o.maxFrameBytes - (catchupHeaderBytes(req.topic) - 6);
  const maxMessages = Math.max(1, Math.min(req.maxMessages, o.serveMaxMessages));
  const maxBytes = Math.max(1, Math.min(req.maxBytes, o.serveMaxBytes, frameBudget));
  let page;
  try {
    page = await ts.log.readMissing(req.marks, { maxMessages, maxBytes });
  } catch {
    reply(CatchupStatus.Error);
    return;
  }
  // Enforce the limits whatever the log returned: the frame must fit the transport.
  const records: DurableRecord[] = [];
  let bytes = 0;
  let more = page.more;
  for (const r of page.records) {
    const size = catchupRecordBytes(r);
    if (
      records.length >= maxMessages ||
      bytes + size > frameBudget ||
      (records.length > 0 && bytes + size > maxBytes)
    ) {
      more = true;
      break;
    }
    records.push(r);
    bytes += size;
  }
  if (records.length === 0 && page.records.length > 0) {
    // A record bigger than a frame can never be served: say so rather than loop.
    reply(CatchupStatus.Error);
    return;
  }
  try {
    const frame = encodeCatchupResponse({
      requestId: req.requestId,
      topic: req.topic,
      status: CatchupStatus.Ok,
      more,
      records,
    });
    ts.stats.recordsServed += records.length;
    send(frame);
  } catch {
    reply(CatchupStatus.Error);
  }
}
