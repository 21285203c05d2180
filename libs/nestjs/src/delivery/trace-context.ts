/**
 * Trace context across a publish, when `@opentelemetry/api` is installed (an optional peer): the
 * client side writes the active context into the message's headers with the propagator the
 * OpenTelemetry SDK registered (W3C `traceparent` / `tracestate` with the SDK's defaults), and
 * the handler side reads it back and runs each attempt inside a consumer span, child of it, made
 * active (`context.with`), so a span started around `emit` on one node continues in the handler on
 * another. Without the package every function here is a pass-through: it is imported dynamically
 * once, and a failed import is remembered as "absent".
 */
import type * as OtelApi from '@opentelemetry/api';

type Api = typeof OtelApi;

/** undefined until {@link loadTracing} settled; null when the package is absent. */
let api: Api | null | undefined;
let loading: Promise<void> | undefined;

/**
 * Import `@opentelemetry/api` once (later calls share the first). Called where the Nest layer
 * starts (client connect, server listen, module start), so the synchronous functions below find
 * it loaded.
 */
export function loadTracing(): Promise<void> {
  loading ??= import('@opentelemetry/api').then(
    (m) => {
      api = m;
    },
    () => {
      api = null;
    },
  );
  return loading;
}

/**
 * `headers` with the active trace context added (headers given by the caller win); `headers`
 * itself when there is no API or nothing to propagate.
 */
export function withTraceContext(
  headers: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> | undefined {
  if (api == null) return headers;
  const carrier: Record<string, string> = {};
  api.propagation.inject(api.context.active(), carrier);
  if (Object.keys(carrier).length === 0) return headers;
  return { ...carrier, ...headers };
}

/** What the span of one handler run says. */
export interface ConsumerSpanInfo {
  /** Span name, `<topic> process` by OpenTelemetry's messaging conventions. */
  readonly name: string;
  readonly topic: string;
  readonly messageId: string;
  /** Attempt number, 1 first. */
  readonly attempt: number;
}

/**
 * Run `fn` inside a consumer span whose parent is the context carried by `headers` (none: a new
 * trace), the span active while it runs; the span records a failure and ends when `fn` settles.
 * Without the API, `fn()`.
 */
export function runTraced<T>(
  headers: Readonly<Record<string, string>>,
  info: ConsumerSpanInfo,
  fn: () => Promise<T>,
): Promise<T> {
  const a = api;
  if (a == null || !tracingActive(a)) return fn();
  const parent = a.propagation.extract(a.ROOT_CONTEXT, headers);
  const tracer = a.trace.getTracer(TRACER_NAME);
  const attributes = {
    'messaging.system': 'plumtree',
    'messaging.operation.type': 'process',
    'messaging.destination.name': info.topic,
    'messaging.message.id': info.messageId,
    'plumtree.attempt': info.attempt,
  };
  return tracer.startActiveSpan(
    info.name,
    { kind: a.SpanKind.CONSUMER, attributes },
    parent,
    async (span) => {
      try {
        return await fn();
      } catch (e) {
        span.recordException(e instanceof Error ? e : String(e));
        span.setStatus({ code: a.SpanStatusCode.ERROR });
        throw e;
      } finally {
        span.end();
      }
    },
  );
}

const TRACER_NAME = '@plumtree/nestjs';

/**
 * Whether a span or a propagated context can be seen by anyone: an SDK registered a tracer
 * provider, or at least a propagator. Neither (the API installed, no SDK started): a consumer span
 * per delivery would be a no-op that costs about 7% of a burst's CPU (bench:compare), so none is
 * made. Checked per call: an SDK may start after this module loaded.
 */
function tracingActive(a: Api): boolean {
  const provider = a.trace.getTracerProvider();
  const noProvider =
    provider instanceof a.ProxyTracerProvider &&
    provider.getDelegateTracer(TRACER_NAME) === undefined;
  return !noProvider || a.propagation.fields().length > 0;
}
