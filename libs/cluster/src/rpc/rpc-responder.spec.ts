import { describe, expect, it } from '@jest/globals';
import { from, Subject } from 'rxjs';
import { defaultPayloadCodec } from '../delivery/payload-codec.js';
import {
  decodeRpcFrame,
  RpcStatus,
  type RpcRequestFrame,
  type RpcResponseFrame,
} from './rpc-codec.js';
import { RpcResponder } from './rpc-responder.js';

import { waitFor } from '../../../../test/support/wait-for.js';

/** A responder whose transport does not know the requester until `known` is set. */
function setup(
  maxActivePerPeer = 64,
  maxActive = 1024,
): {
  responder: RpcResponder;
  sent: RpcResponseFrame[];
  state: { known: boolean; closed: boolean };
} {
  const sent: RpcResponseFrame[] = [];
  const state = { known: false, closed: false };
  const responder = new RpcResponder({
    codec: defaultPayloadCodec,
    maxPayloadBytes: 1024,
    send: (_peer, frame) => {
      if (!state.known) return 'unknown-peer';
      sent.push(decodeRpcFrame(frame) as RpcResponseFrame);
      return 'queued';
    },
    isClosed: () => state.closed,
    maxActivePerPeer,
    maxActive,
  });
  return { responder, sent, state };
}

function request(requestId: number, topic: string, timeoutMs = 60_000): RpcRequestFrame {
  return {
    kind: 0x81,
    requestId,
    topic,
    contentType: 'application/json',
    headers: {},
    metadata: {},
    timeoutMs,
    streams: true,
    payload: Buffer.from('null'),
  };
}

const valueOf = (f: RpcResponseFrame): unknown =>
  f.payload.length === 0 ? undefined : JSON.parse(Buffer.from(f.payload).toString());

describe('RpcResponder', () => {
  it('keeps the replies to a requester membership does not know yet, in order, until it is known', async () => {
    const { responder, sent, state } = setup();
    const later = new Subject<number>();
    responder.addHandler('nums', () => from([1, 2, 3]));
    responder.addHandler('later', () => later);
    await responder.onRequest('a', request(1, 'nums'));
    await responder.onRequest('a', request(2, 'later'));
    later.next(10);
    expect(sent).toEqual([]);
    state.known = true;
    later.next(11);
    later.complete();
    await waitFor('every reply frame', () => sent.length === 6);
    expect(sent.map((f) => [f.requestId, f.status, valueOf(f)])).toEqual([
      [1, RpcStatus.Next, 1],
      [1, RpcStatus.Next, 2],
      [1, RpcStatus.Ok, 3],
      [2, RpcStatus.Next, 10],
      [2, RpcStatus.Next, 11],
      [2, RpcStatus.Ok, undefined],
    ]);
    expect(responder.counters.repliesDropped).toBe(0);
  });

  it("drops what still waits once the request's timeout has passed", async () => {
    const { responder, state } = setup();
    responder.addHandler('x', () => 'reply');
    await responder.onRequest('a', request(1, 'x', 120));
    await waitFor('the reply to be dropped', () => responder.counters.repliesDropped === 1);
    state.known = true;
    expect(responder.counters.answered).toBe(1);
  });

  it('answers busy, without running the handler, beyond the per-peer and total caps', async () => {
    const { responder, sent, state } = setup(2, 3);
    state.known = true;
    const open = new Subject<number>();
    let runs = 0;
    responder.addHandler('slow', () => {
      runs++;
      return open;
    });
    for (let id = 1; id <= 3; id++) await responder.onRequest('a', request(id, 'slow'));
    await responder.onRequest('b', request(1, 'slow'));
    await responder.onRequest('c', request(1, 'slow'));
    // a: 2 run, its third refused; b runs (3 in all); c refused by the total.
    expect(runs).toBe(3);
    expect(responder.counters.busy).toBe(2);
    const busy = sent.filter((f) => f.status === RpcStatus.Error);
    expect(busy.map((f) => f.requestId)).toEqual([3, 1]);
    expect(JSON.parse(Buffer.from(busy[0]!.payload).toString()).name).toBe('ResponderBusyError');
    // Once replies end, the peer is served again.
    open.complete();
    await responder.onRequest('a', request(4, 'slow'));
    expect(runs).toBe(4);
    expect(responder.counters.busy).toBe(2);
  });
});
