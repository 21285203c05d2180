/**
 * Fixtures of the SWIM core specs (libs/swim/src/protocol/*.spec.ts): one core driven by hand,
 * every input a decoded message, every output read back through poll*. Test support, outside
 * src/ so it is not built into dist/.
 */
import type { SwimConfigInput } from '../src/config/swim-config.js';
import { MessageType } from '../src/wire/message-types.js';
import type { Alive, Message } from '../src/wire/messages.js';
import { parseIp } from '../src/protocol/address.js';
import { SwimCore, type SwimCoreOptions } from '../src/protocol/swim-core.js';
import type { SwimEvent, SwimStreamRequest, SwimTransmit } from '../src/protocol/types.js';

export const VSN5 = Uint8Array.from([1, 5, 2, 0, 0, 0]);
export const VSN2 = Uint8Array.from([1, 2, 2, 0, 0, 0]);
export const noMeta = new Uint8Array(0);

export function core(config: SwimConfigInput = {}, extra: Partial<SwimCoreOptions> = {}): SwimCore {
  return new SwimCore({
    config: { preset: 'lan', name: 'me', pushPullIntervalMs: 0, gossipIntervalMs: 0, ...config },
    addr: '10.0.0.1',
    port: 7946,
    nowMs: 0,
    seed: 7,
    ...extra,
  });
}

export function drain(c: SwimCore): {
  tx: SwimTransmit[];
  streams: SwimStreamRequest[];
  events: SwimEvent[];
} {
  const tx: SwimTransmit[] = [];
  const streams: SwimStreamRequest[] = [];
  const events: SwimEvent[] = [];
  for (let t = c.pollTransmit(); t; t = c.pollTransmit()) tx.push(t);
  for (let s = c.pollStreamRequest(); s; s = c.pollStreamRequest()) streams.push(s);
  for (let e = c.pollEvent(); e; e = c.pollEvent()) events.push(e);
  return { tx, streams, events };
}

export function ipOf(i: number): Uint8Array {
  return parseIp(`10.0.0.${i}`)!;
}

export function alive(
  name: string,
  incarnation: number,
  ip: number,
  meta = noMeta,
  vsn = VSN5,
): Message {
  const body: Alive = {
    Incarnation: incarnation,
    Node: name,
    Addr: ipOf(ip),
    Port: 7946,
    Meta: meta,
    Vsn: vsn,
  };
  return { type: MessageType.Alive, body };
}

/** A core that knows `peers` alive members n2..n(peers+1), outputs drained. */
export function withPeers(
  peers: number,
  config: SwimConfigInput = {},
  extra: Partial<SwimCoreOptions> = {},
  vsn = VSN5,
): SwimCore {
  const c = core(config, extra);
  for (let i = 2; i < peers + 2; i++)
    c.handlePacket(`10.0.0.${i}:7946`, alive(`n${i}`, 1, i, noMeta, vsn), 0);
  drain(c);
  return c;
}

export function types(t: SwimTransmit): number[] {
  return t.messages.map((m) => m.type);
}

/** Advance the core to `t`, firing timers on the way as a shell would. */
export function runTo(c: SwimCore, t: number): void {
  for (let d = c.pollTimeout(); d !== undefined && d <= t; d = c.pollTimeout()) c.handleTimeout(d);
}
