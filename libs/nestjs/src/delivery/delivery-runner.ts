/**
 * One delivery through one event handler, the acknowledgement contract (docs/nestjs.md,
 * "Acknowledgement, retries and dead letters"): an attempt succeeds when the handler returns (its
 * promise resolves, its Observable completes) or, with `ack: 'manual'`, calls `ctx.ack()`; it
 * fails when the handler throws, rejects, errors or calls `ctx.nack()`. A failed attempt is run
 * again after a backoff (libs/common/src/backoff.ts) until the policy's attempts are spent; then
 * the message is published on the dead-letter topic (dead-letter.ts). The handler's concurrency
 * slot (handler-slots.ts) is held from the first attempt to the end, backoffs included, so a
 * failing message slows its handler down instead of piling up. Each attempt runs in the trace
 * context the message carries (trace-context.ts).
 */
import { isObservable, lastValueFrom } from 'rxjs';
import type { Delivery } from '@plumtree/cluster';
import { backoffDelayMs } from '@plumtree/common';
import { PlumtreeContext, type AckControl } from '../plumtree.context.js';
import { PlumtreeAckTimeoutError } from '../plumtree.errors.js';
import { deadLetterHeaders, readDeadLetter } from './dead-letter.js';
import type { HandlerSlots } from './handler-slots.js';
import type { ResolvedHandlerPolicy } from './handler-policy.js';
import { runTraced } from './trace-context.js';

/** Counters of acknowledgement, kept by whoever hosts the handlers (service, server). */
export interface HandlerDeliveryCounters {
  /** Attempts that failed (thrown, rejected, nacked, refused by a guard, timed out). */
  handlerErrors: number;
  /** Attempts run again after a failure. */
  retries: number;
  /** Messages published on a dead-letter topic after their last attempt failed. */
  deadLetters: number;
  /**
   * Messages whose last attempt failed and that reached no dead-letter topic: none configured
   * (`deadLetter: false`), a dead letter failing again, or its publish refused (no subscriber).
   */
  deadLettersLost: number;
}

/** One event handler as the runner sees it. */
export interface RunnableHandler {
  /** `Class.method`, or the route of an `@EventPattern`. */
  readonly name: string;
  readonly policy: ResolvedHandlerPolicy;
  /** Present when the handler has a concurrency limit. */
  readonly slots: HandlerSlots | undefined;
  /** One attempt: the handler's value (a promise or Observable is awaited by the runner). */
  readonly invoke: (payload: unknown, ctx: PlumtreeContext) => unknown;
}

/** What the runner needs from its host. */
export interface DeliveryRunnerHost {
  readonly counters: HandlerDeliveryCounters;
  /** An attempt failed (`willRetry`: another follows); the host logs it. */
  onAttemptFailed(h: RunnableHandler, d: Delivery, error: unknown, willRetry: boolean): void;
  /** A dead letter could not be published, or had nowhere to go; the host logs it. */
  onLost(h: RunnableHandler, d: Delivery, reason: string): void;
  /** Publish a dead letter. */
  publish(topic: string, payload: unknown, headers: Record<string, string>): Promise<unknown>;
}

/**
 * Run `d` through `h` per its policy. Takes a slot synchronously, before the first await, as the
 * delivery queue expects (it checked the gate just before). `prepare` gives the payload (a DTO's
 * instance, say), or undefined to skip the message; default the delivery's payload.
 */
export async function runDelivery(
  h: RunnableHandler,
  d: Delivery,
  host: DeliveryRunnerHost,
  prepare?: () => Promise<{ readonly payload: unknown } | undefined>,
): Promise<void> {
  h.slots?.take();
  try {
    const prepared = prepare === undefined ? { payload: d.payload } : await prepare();
    if (prepared === undefined) return;
    const payload = prepared.payload;
    const { attempts, backoffMs, maxBackoffMs } = h.policy;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const outcome = await runTraced(
        d.headers,
        { name: `${d.topic} process`, topic: d.topic, messageId: d.id, attempt },
        () => attemptOnce(h, d, payload, attempt),
      ).then(
        () => undefined,
        (e: unknown) => ({ error: e }),
      );
      if (outcome === undefined) return;
      lastError = outcome.error;
      host.counters.handlerErrors++;
      const willRetry = attempt < attempts;
      host.onAttemptFailed(h, d, lastError, willRetry);
      if (!willRetry) break;
      host.counters.retries++;
      await delay(
        backoffDelayMs(attempt, { initial: backoffMs, max: maxBackoffMs }, Math.random()),
      );
    }
    await deadLetter(h, d, payload, lastError, host);
  } finally {
    h.slots?.release();
  }
}

/** One attempt: resolves when it succeeded, rejects with what it failed with. */
async function attemptOnce(
  h: RunnableHandler,
  d: Delivery,
  payload: unknown,
  attempt: number,
): Promise<void> {
  if (h.policy.ack === 'auto') {
    await settle(h.invoke(payload, PlumtreeContext.fromDelivery(d, { attempt })));
    return;
  }
  let control!: AckControl;
  let timer: NodeJS.Timeout | undefined;
  const acked = new Promise<void>((resolve, reject) => {
    control = { attempt, ack: resolve, nack: reject };
    timer = setTimeout(
      () => reject(new PlumtreeAckTimeoutError(h.policy.ackTimeoutMs)),
      h.policy.ackTimeoutMs,
    );
  });
  try {
    // A throw is a nack; a return leaves the outcome to ack() / nack(), maybe called later.
    await Promise.race([
      settle(h.invoke(payload, PlumtreeContext.fromDelivery(d, control))).then(() => acked),
      acked,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The handler's value awaited: a promise's, or an Observable's end. */
async function settle(result: unknown): Promise<void> {
  const value: unknown = await result;
  if (isObservable(value)) await lastValueFrom(value, { defaultValue: undefined });
}

async function deadLetter(
  h: RunnableHandler,
  d: Delivery,
  payload: unknown,
  error: unknown,
  host: DeliveryRunnerHost,
): Promise<void> {
  const topic = h.policy.deadLetter === undefined ? `${d.topic}.dlq` : h.policy.deadLetter;
  if (topic === false || readDeadLetter(d.headers) !== undefined) {
    host.counters.deadLettersLost++;
    host.onLost(h, d, topic === false ? 'no dead-letter topic' : 'a dead letter failed again');
    return;
  }
  try {
    await host.publish(topic, payload, deadLetterHeaders(d, h.name, h.policy.attempts, error));
    host.counters.deadLetters++;
  } catch (e) {
    host.counters.deadLettersLost++;
    host.onLost(h, d, `publish on ${topic} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
