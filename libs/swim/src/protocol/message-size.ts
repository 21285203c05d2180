import { MessageType } from '../wire/message-types.js';
import type { Message } from '../wire/messages.js';

/**
 * A conservative estimate of a message's encoded size: the type byte plus memberlist's msgpack
 * map (Go field names as keys), assuming the widest encoding of every integer, every optional field
 * present when set, and `Vsn` as an array of integers. It is never below the real size, so a packet
 * filled against it never exceeds `udpBufferSize`. The codec may supply an exact function instead
 * (`SwimCoreOptions.encodedSize`).
 */
export function estimateEncodedSize(message: Message): number {
  switch (message.type) {
    case MessageType.Ping: {
      const b = message.body;
      return 2 + field('SeqNo', UINT32) + field('Node', str(b.Node)) + sourceFields(b);
    }
    case MessageType.IndirectPing: {
      const b = message.body;
      return (
        2 +
        field('SeqNo', UINT32) +
        field('Target', bin(b.Target.length)) +
        field('Port', UINT16) +
        field('Node', str(b.Node)) +
        field('Nack', 1) +
        sourceFields(b)
      );
    }
    case MessageType.AckResp:
      return 2 + field('SeqNo', UINT32) + field('Payload', bin(message.body.Payload.length));
    case MessageType.NackResp:
      return 2 + field('SeqNo', UINT32);
    case MessageType.Suspect:
    case MessageType.Dead:
      return (
        2 +
        field('Incarnation', UINT32) +
        field('Node', str(message.body.Node)) +
        field('From', str(message.body.From))
      );
    case MessageType.Alive: {
      const b = message.body;
      return (
        2 +
        field('Incarnation', UINT32) +
        field('Node', str(b.Node)) +
        field('Addr', bin(b.Addr.length)) +
        field('Port', UINT16) +
        field('Meta', bin(b.Meta.length)) +
        field('Vsn', 3 + 2 * b.Vsn.length)
      );
    }
    case MessageType.Err:
      return 2 + field('Error', str(message.body.Error));
    case MessageType.User:
      return 1 + message.body.length;
  }
}

const UINT32 = 5;
const UINT16 = 3;

function field(name: string, valueBytes: number): number {
  return 1 + name.length + valueBytes;
}

/** The source fields of a ping or indirect ping, each omitted when empty (`omitempty`). */
function sourceFields(b: {
  SourceAddr?: Uint8Array;
  SourcePort?: number;
  SourceNode?: string;
}): number {
  return (
    (b.SourceAddr ? field('SourceAddr', bin(b.SourceAddr.length)) : 0) +
    (b.SourcePort ? field('SourcePort', UINT16) : 0) +
    (b.SourceNode ? field('SourceNode', str(b.SourceNode)) : 0)
  );
}

/**
 * msgpack raw header plus payload. memberlist's go-msgpack handle writes the old spec (no str8,
 * no bin): fixraw below 32 bytes, then raw16, then raw32.
 */
function bin(length: number): number {
  const header = length < 32 ? 1 : length < 65536 ? 3 : 5;
  return header + length;
}

function str(s: string): number {
  return bin(utf8Length(s));
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
