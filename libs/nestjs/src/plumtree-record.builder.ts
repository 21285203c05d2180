/**
 * `PlumtreeRecordBuilder`: a payload with application headers for `PlumtreeClient.send` and
 * `emit`, as `NatsRecordBuilder` and `RmqRecordBuilder` are for Nest's transports. The handler
 * reads the headers with `ctx.getHeaders()`; the payload alone reaches `@Payload()`.
 *
 * ```ts
 * const record = new PlumtreeRecordBuilder(order).setHeaders({ 'x-version': '1.0.0' }).build();
 * client.send('orders.create', record);
 * ```
 */

/** A payload and its headers (see the file comment). */
export class PlumtreeRecord<TData = unknown> {
  constructor(
    readonly data: TData,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {}
}

/** Builds a {@link PlumtreeRecord}. */
export class PlumtreeRecordBuilder<TData = unknown> {
  private headers: Record<string, string> = {};

  constructor(private data?: TData) {}

  /** The payload. */
  setData(data: TData): this {
    this.data = data;
    return this;
  }

  /** Application headers (string values), merged over those set before. */
  setHeaders(headers: Readonly<Record<string, string>>): this {
    this.headers = { ...this.headers, ...headers };
    return this;
  }

  build(): PlumtreeRecord<TData> {
    return new PlumtreeRecord(this.data as TData, { ...this.headers });
  }
}

/** The payload and headers of what a client was given: a record, or a bare payload. */
export function unwrapRecord(data: unknown): {
  data: unknown;
  headers: Readonly<Record<string, string>> | undefined;
} {
  return data instanceof PlumtreeRecord
    ? { data: data.data as unknown, headers: data.headers }
    : { data, headers: undefined };
}
