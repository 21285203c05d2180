/**
 * The dead-letter format. A message whose every attempt failed is published again, payload as
 * delivered, on the handler's dead-letter topic (`<topic>.dlq` by default) with its original
 * headers plus these (docs/nestjs.md, "Dead letters"):
 *
 * | header                    | value                                              |
 * |---------------------------|----------------------------------------------------|
 * | `dead-letter-topic`       | the topic the message came on                      |
 * | `dead-letter-id`          | its message id (`origin/epoch/seq`)                |
 * | `dead-letter-origin`      | the node that published it                         |
 * | `dead-letter-handler`     | the handler that gave up (`Class.method`, or route) |
 * | `dead-letter-attempts`    | attempts made                                      |
 * | `dead-letter-error`       | the last error's message (at most 1,024 characters) |
 * | `dead-letter-error-name`  | the last error's name (`Error`, `TypeError`, ...)  |
 *
 * A dead letter whose handler fails too is not dead-lettered again (no `.dlq.dlq` chains): it is
 * logged and counted as lost, like one that cannot be published.
 */
import type { Delivery } from '@plumtree/cluster';

/** Prefix of the dead-letter headers. */
export const DEAD_LETTER_PREFIX = 'dead-letter-';
const MAX_ERROR_CHARS = 1024;

/** What a dead letter says about the message it carries (`PlumtreeContext.getDeadLetter()`). */
export interface PlumtreeDeadLetter {
  /** The topic the message was first delivered on. */
  readonly topic: string;
  /** Its message id there. */
  readonly id: string;
  /** The node that published it. */
  readonly origin: string;
  /** The handler that gave up on it. */
  readonly handler: string;
  /** Attempts made. */
  readonly attempts: number;
  /** The last error. */
  readonly error: { readonly name: string; readonly message: string };
}

/** Name and message of whatever a handler failed with (an Error, Nest's `{ message }`, ...). */
export function describeError(e: unknown): { name: string; message: string } {
  if (e instanceof Error) return { name: e.name, message: e.message };
  if (typeof e === 'object' && e !== null) {
    const o = e as { name?: unknown; message?: unknown };
    const message = typeof o.message === 'string' ? o.message : safeJson(e);
    return { name: typeof o.name === 'string' ? o.name : 'Error', message };
  }
  return { name: 'Error', message: String(e) };
}

/** The headers of the dead letter of `d`. */
export function deadLetterHeaders(
  d: Delivery,
  handler: string,
  attempts: number,
  error: unknown,
): Record<string, string> {
  const { name, message } = describeError(error);
  return {
    ...d.headers,
    [`${DEAD_LETTER_PREFIX}topic`]: d.topic,
    [`${DEAD_LETTER_PREFIX}id`]: d.id,
    [`${DEAD_LETTER_PREFIX}origin`]: d.origin,
    [`${DEAD_LETTER_PREFIX}handler`]: handler,
    [`${DEAD_LETTER_PREFIX}attempts`]: String(attempts),
    [`${DEAD_LETTER_PREFIX}error`]: message.slice(0, MAX_ERROR_CHARS),
    [`${DEAD_LETTER_PREFIX}error-name`]: name.slice(0, 128),
  };
}

/** The dead-letter description in `headers`, or undefined when they carry none. */
export function readDeadLetter(
  headers: Readonly<Record<string, string>>,
): PlumtreeDeadLetter | undefined {
  const topic = headers[`${DEAD_LETTER_PREFIX}topic`];
  if (topic === undefined) return undefined;
  const h = (k: string): string => headers[DEAD_LETTER_PREFIX + k] ?? '';
  return {
    topic,
    id: h('id'),
    origin: h('origin'),
    handler: h('handler'),
    attempts: Number(h('attempts')) || 0,
    error: { name: h('error-name'), message: h('error') },
  };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
