/**
 * Reads one framed message off a stream: bytes are accumulated and offered to a sans-IO parser
 * until it answers with a message, a fatal error, or the stream ends, times out or grows past the
 * size cap. The parser decides framing, so memberlist streams and Plumtree frames can share it.
 */
import type { Duplex } from 'node:stream';

/** What a parser says about the bytes received so far. */
export type ParseStep<T> =
  | { readonly kind: 'done'; readonly value: T; readonly consumed: number }
  | { readonly kind: 'more' }
  | { readonly kind: 'error'; readonly reason: string };

/** Why {@link readFramed} gave up. */
export class StreamReadError extends Error {
  override readonly name = 'StreamReadError';
  constructor(
    /** `timeout`, `too-large`, `eof`, `stream-error` or the parser's reason. */
    readonly reason: string,
    detail?: string,
  ) {
    super(detail === undefined ? reason : `${reason}: ${detail}`);
  }
}

/** Limits of {@link readFramed}. */
export interface ReadFramedOptions {
  /** Give up when more than this many bytes arrived without a complete message. */
  readonly maxBytes: number;
  /** Give up after this long, in milliseconds. */
  readonly timeoutMs: number;
}

/**
 * Reads from `stream` (resuming it) until `parse` completes. Bytes after the message are put back
 * with `unshift`. Rejects with a {@link StreamReadError}; never leaves listeners behind.
 */
export function readFramed<T>(
  stream: Duplex,
  parse: (buf: Uint8Array) => ParseStep<T>,
  options: ReadFramedOptions,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (err: StreamReadError | null, value?: T, rest?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('close', onEnd);
      stream.removeListener('error', onError);
      stream.pause();
      if (rest && rest.length > 0) stream.unshift(rest);
      if (err) reject(err);
      else resolve(value as T);
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const step = parse(buf);
      if (step.kind === 'done') {
        finish(null, step.value, buf.subarray(step.consumed));
      } else if (step.kind === 'error') {
        finish(new StreamReadError(step.reason));
      } else if (buf.length > options.maxBytes) {
        finish(new StreamReadError('too-large'));
      }
    };
    const onEnd = (): void => finish(new StreamReadError('eof'));
    const onError = (e: Error): void => finish(new StreamReadError('stream-error', e.message));
    const timer = setTimeout(
      () => finish(new StreamReadError('timeout')),
      Math.max(0, options.timeoutMs),
    );
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
    if (stream.readableEnded || stream.destroyed) {
      finish(new StreamReadError('eof'));
      return;
    }
    stream.resume();
  });
}

/** Writes `bytes` and resolves once they are handed to the OS (or rejects on a stream error). */
export function writeAll(stream: Duplex, bytes: Uint8Array): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (stream.destroyed || stream.writableEnded) {
      reject(new Error('stream closed'));
      return;
    }
    stream.write(bytes, (err) => (err ? reject(err) : resolve()));
  });
}
