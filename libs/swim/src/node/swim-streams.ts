/**
 * The TCP streams of a {@link SwimNode} (memberlist `net.go`): serving the streams peers open
 * (`handleConn`: push-pull, fallback ping, reliable user message) and opening the ones the core
 * asks for (`sendAndReceiveState`, `sendPingAndWaitForAck`, `sendUserMsg`), each on its own
 * connection, every outcome handed back to the core. Bytes from peers never throw: a malformed or
 * refused stream is a counted drop.
 */
import type { Duplex } from 'node:stream';
import type { SwimConfig } from '../config/swim-config.js';
import type { SwimCore } from '../protocol/swim-core.js';
import type { SwimStreamRequest } from '../protocol/types.js';
import type { EncryptionVersion } from '../wire/message-types.js';
import { MessageType } from '../wire/message-types.js';
import type { Keyring } from '../wire/keyring.js';
import {
  encodeStreamMessage,
  readStreamMessage,
  type StreamMessage,
  type ReadStreamResult,
} from '../wire/stream.js';
import { readFramed, writeAll, type ParseStep } from '../transport/stream-reader.js';
import { DialError, type SwimTransport } from '../transport/transport.js';

/** memberlist's `maxPushPullRequests`: inbound push-pulls served at once. */
const MAX_CONCURRENT_PUSH_PULLS = 128;

/** The keyring and label settings every packet and stream of a node is sealed and opened with. */
export interface WireSettings {
  readonly label: string;
  readonly keyring: Keyring | null;
  readonly encryptionVersion: EncryptionVersion;
  readonly verifyIncoming: boolean;
  readonly verifyOutgoing: boolean;
}

/** What the streams need from their node. */
export interface SwimStreamsHost {
  readonly core: SwimCore;
  readonly transport: SwimTransport;
  readonly config: SwimConfig;
  /** Whether the node is closed: nothing more is handed to the core. */
  isClosed(): boolean;
  wire(): WireSettings;
  /** Count a drop under `layer:reason`. */
  countDrop(key: string): void;
  /** Drain the core after an input. */
  drive(): void;
}

/** Inbound and outbound memberlist streams of one node. */
export class SwimStreams {
  /** Inbound streams served. */
  handled = 0;
  /** Push-pulls answered (a peer's anti-entropy or join) and opened by this node. */
  readonly pushPulls = { received: 0, sent: 0 };
  private inboundPushPulls = 0;
  /** Inbound streams being read or answered now (capped by `maxInboundStreams`). */
  private inbound = 0;

  constructor(
    private readonly host: SwimStreamsHost,
    /** Cap on one inbound stream message in bytes. */
    private readonly maxStreamBytes: number,
  ) {}

  /** An accepted memberlist stream (net.go `handleConn`), within `maxInboundStreams`. */
  async serve(stream: Duplex, from: string): Promise<void> {
    const { host } = this;
    stream.on('error', () => {});
    if (this.inbound >= host.config.maxInboundStreams) {
      host.countDrop('stream:too-many-streams');
      stream.destroy();
      return;
    }
    this.inbound++;
    try {
      await this.serveOne(stream, from);
    } finally {
      this.inbound--;
    }
  }

  private async serveOne(stream: Duplex, from: string): Promise<void> {
    const { host } = this;
    let msg: StreamMessage;
    try {
      msg = await this.readMessage(stream, host.config.tcpTimeoutMs);
    } catch (e) {
      this.refuse(stream, (e as { reason?: string }).reason ?? 'error');
      return;
    }
    if (host.isClosed()) {
      stream.destroy();
      return;
    }
    this.handled++;
    const now = Date.now();
    try {
      switch (msg.type) {
        case MessageType.PushPull: {
          if (this.inboundPushPulls >= MAX_CONCURRENT_PUSH_PULLS) {
            host.countDrop('stream:too-many-push-pulls');
            break;
          }
          this.inboundPushPulls++;
          this.pushPulls.received++;
          try {
            const answer = host.core.handlePushPull(from, msg.nodes, msg.userState, msg.join, now);
            host.drive();
            await writeAll(stream, this.encode({ type: MessageType.PushPull, ...answer }));
          } finally {
            this.inboundPushPulls--;
          }
          break;
        }
        case MessageType.Ping: {
          const ack = host.core.handleStreamPing(from, msg.body, now);
          host.drive();
          if (ack) await writeAll(stream, this.encode({ type: MessageType.AckResp, body: ack }));
          break;
        }
        case MessageType.User:
          host.core.handlePacket(from, { type: MessageType.User, body: msg.payload }, now);
          host.drive();
          break;
        default:
          host.countDrop(`stream:unexpected-type-${msg.type}`);
      }
    } catch {
      host.countDrop('stream:write-failed');
    }
    stream.end();
  }

  /** A stream the core asked for (net.go sendAndReceiveState, sendPingAndWaitForAck, sendUserMsg). */
  async open(r: SwimStreamRequest): Promise<void> {
    const { host } = this;
    const timeoutMs = () => Math.max(1, r.deadlineMs - Date.now());
    let stream: Duplex | null = null;
    try {
      stream = await host.transport.dial(r.to.addr, timeoutMs());
      stream.on('error', () => {});
      switch (r.kind) {
        case 'push-pull': {
          this.pushPulls.sent++;
          await writeAll(stream, this.encode({ type: MessageType.PushPull, ...r.local }));
          const reply = await this.readMessage(stream, timeoutMs());
          if (host.isClosed()) return;
          if (reply.type === MessageType.PushPull) {
            host.core.handlePushPullResponse(r.id, reply.nodes, reply.userState, Date.now());
          } else if (reply.type === MessageType.Err) {
            host.core.handleStreamFailure(r.id, `remote error: ${reply.body.Error}`, Date.now());
          } else {
            host.core.handleStreamFailure(
              r.id,
              `received invalid msgType (${reply.type}), expected pushPullMsg (6)`,
              Date.now(),
            );
          }
          break;
        }
        case 'ping': {
          await writeAll(stream, this.encode({ type: MessageType.Ping, body: r.ping }));
          const reply = await this.readMessage(stream, timeoutMs());
          if (host.isClosed()) return;
          host.core.handleStreamPingResult(
            r.id,
            reply.type === MessageType.AckResp ? reply.body : null,
            Date.now(),
          );
          break;
        }
        case 'user':
          await writeAll(stream, this.encode({ type: MessageType.User, payload: r.payload }));
          if (host.isClosed()) return;
          host.core.handleStreamDone(r.id, Date.now());
          break;
      }
    } catch (e) {
      if (host.isClosed()) return;
      const reason = e instanceof Error ? e.message : String(e);
      if (r.kind === 'ping') {
        const refused = e instanceof DialError && e.refused;
        host.core.handleStreamPingResult(r.id, null, Date.now(), refused);
      } else host.core.handleStreamFailure(r.id, reason, Date.now());
    } finally {
      stream?.end();
    }
    host.drive();
  }

  /** An inbound stream that could not be read: count it and, as Go does, tell the peer why. */
  private refuse(stream: Duplex, reason: string): void {
    if (reason !== 'eof') {
      this.host.countDrop(`stream:${reason}`);
      // Best effort, then close once it is written.
      if (!this.host.isClosed() && reason !== 'timeout' && reason !== 'stream-error') {
        try {
          const bytes = this.encode({ type: MessageType.Err, body: { Error: `stream ${reason}` } });
          stream.end(bytes, () => stream.destroy());
          return;
        } catch {
          // The error response is a courtesy.
        }
      }
    }
    stream.destroy();
  }

  private readMessage(stream: Duplex, timeoutMs: number): Promise<StreamMessage> {
    const opts = { ...this.host.wire(), maxStreamBytes: this.maxStreamBytes };
    const parse = (buf: Uint8Array): ParseStep<ReadStreamResult> => {
      const r = readStreamMessage(buf, opts);
      if (r.ok) return { kind: 'done', value: r, consumed: r.consumed };
      return r.reason === 'truncated' ? { kind: 'more' } : { kind: 'error', reason: r.reason };
    };
    return readFramed(stream, parse, { maxBytes: this.maxStreamBytes, timeoutMs }).then(
      (r) => r.message,
    );
  }

  private encode(msg: StreamMessage): Uint8Array {
    const compress = this.host.config.enableCompression;
    return encodeStreamMessage(msg, { ...this.host.wire(), compress });
  }
}
