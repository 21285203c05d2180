/**
 * Incremental parser of `[u32 BE length][body]` frames over a byte stream.
 *
 * Chunks are fed as they arrive. A frame lying whole inside one chunk is handed out as a
 * `subarray` of it (no copy); a frame spanning chunks is joined with exactly one copy once its
 * last byte arrives. Bytes of an incomplete frame are kept as references to the chunks, so a
 * peer that announces a large frame and stalls costs only what it actually sent.
 */

/** Why a {@link FrameReader} stopped. */
export type FrameReaderError = 'frame-too-large';

/**
 * Called for each complete frame. The bytes may be a view into a socket chunk: copy them if
 * they are kept after the call. Return false to stop parsing (e.g. the connection was closed).
 */
export type FrameSink = (frame: Buffer) => boolean;

/** The length-prefixed frame parser of one connection. */
export class FrameReader {
  private readonly header = Buffer.alloc(4);
  private headerFill = 0;
  /** Body length of the frame being assembled, or -1 while reading a header. */
  private need = -1;
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private failed: FrameReaderError | null = null;

  constructor(
    /** Largest body accepted; a larger length stops the reader with `frame-too-large`. */
    private readonly maxFrameBytes: number,
    private readonly sink: FrameSink,
  ) {}

  /** Why the reader stopped, if it did. */
  get error(): FrameReaderError | null {
    return this.failed;
  }

  /** Bytes held for the frame being assembled (header included). */
  get bufferedBytes(): number {
    return this.headerFill + this.partsBytes;
  }

  /**
   * Parses `chunk`, handing out each completed frame. Returns false once the reader stopped:
   * a length above the cap (see {@link error}) or a sink that returned false.
   */
  push(chunk: Buffer): boolean {
    if (this.failed) return false;
    const n = chunk.length;
    let off = 0;
    while (off < n) {
      if (this.need < 0) {
        let len: number;
        if (this.headerFill === 0 && n - off >= 4) {
          len = chunk.readUInt32BE(off);
          off += 4;
        } else {
          // A header split across chunks: gather its four bytes first.
          while (this.headerFill < 4 && off < n) this.header[this.headerFill++] = chunk[off++]!;
          if (this.headerFill < 4) return true;
          this.headerFill = 0;
          len = this.header.readUInt32BE(0);
        }
        if (len > this.maxFrameBytes) {
          this.failed = 'frame-too-large';
          return false;
        }
        if (n - off >= len) {
          const frame = chunk.subarray(off, off + len);
          off += len;
          if (!this.sink(frame)) return false;
          continue;
        }
        this.need = len;
      }
      const take = Math.min(this.need - this.partsBytes, n - off);
      this.parts.push(chunk.subarray(off, off + take));
      this.partsBytes += take;
      off += take;
      if (this.partsBytes === this.need) {
        const frame =
          this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.need);
        this.parts = [];
        this.partsBytes = 0;
        this.need = -1;
        if (!this.sink(frame)) return false;
      }
    }
    return true;
  }
}
