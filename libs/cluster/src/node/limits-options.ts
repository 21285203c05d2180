/**
 * The `limits` part of the node options: caps on the node-level structures that remote input
 * grows (docs/limits.md lists them with the core's and SWIM's). Each default is far above what a
 * healthy cluster uses, so a cap only bites when a peer floods; then the node drops and counts
 * (`stats().limits`, `plumtree_limit_drops_total`), never throws and keeps serving its members.
 * Checked with the rest of the options by `resolvePlumtreeNodeOptions`: problems are collected.
 */
import 'reflect-metadata';
import { IsInt, Min } from 'class-validator';
import { validationProblems } from '@plumtree/common';
import type { NodeOptionProblem } from './errors.js';

/** The caps, all optional in the options (`limits: { maxPatternTopics: 5_000 }`). */
export interface LimitsOptions {
  /**
   * Topics this node joins only because a local pattern matches them (`orders.#`), on the word
   * of the directory or of a hand-off; beyond it a newly seen topic is not joined and its frames
   * drop. Default 1,000.
   */
  readonly maxPatternTopics?: number;
  /**
   * At `maxPatternTopics`, a new topic takes the place of the pattern-joined topic that delivered
   * nothing for longest, once that is this long: a flood that filled the cap holds it only while
   * it keeps every one of its topics busy. Default 300,000 ms (5 min).
   */
  readonly patternTopicIdleMs?: number;
  /**
   * Topics one member's hand-offs may make this node join while it is in them, beyond those the
   * node or the directory holds (a member subscribes to the topic itself): only a local pattern
   * matches them. Beyond, its hand-off of a new such topic is answered NACK (the publisher tries
   * another subscriber). Default 250, a quarter of `maxPatternTopics`: one member cannot fill it.
   */
  readonly maxHandoffTopicsPerPeer?: number;
  /** Requests of one peer whose handler runs at once; beyond, answered `ResponderBusyError`. Default 64. */
  readonly maxRequestsPerPeer?: number;
  /** Requests whose handler runs at once, every peer together. Default 1,024. */
  readonly maxRequests?: number;
  /** Catch-up requests of one peer served at once; beyond, dropped (it asks again). Default 4. */
  readonly maxCatchupServesPerPeer?: number;
  /** Catch-up requests served at once, every peer together. Default 32. */
  readonly maxCatchupServes?: number;
  /**
   * Origin incarnations whose order a durable topic tracks; beyond, those idle longest (nothing
   * held back) are forgotten, first those idle past the retention. Default 10,000.
   */
  readonly maxDurableStreamsPerTopic?: number;
}

/** Validated with class-validator; the initialisers are the defaults. */
class LimitsSettings {
  @IsInt() @Min(1) maxPatternTopics = 1_000;
  @IsInt() @Min(1) patternTopicIdleMs = 300_000;
  @IsInt() @Min(1) maxHandoffTopicsPerPeer = 250;
  @IsInt() @Min(1) maxRequestsPerPeer = 64;
  @IsInt() @Min(1) maxRequests = 1_024;
  @IsInt() @Min(1) maxCatchupServesPerPeer = 4;
  @IsInt() @Min(1) maxCatchupServes = 32;
  @IsInt() @Min(1) maxDurableStreamsPerTopic = 10_000;
}

/** {@link LimitsOptions} with every default filled in. */
export type NodeLimits = Required<LimitsOptions>;

/** The defaults (docs/limits.md). */
export const LIMITS_DEFAULTS: Readonly<Required<LimitsOptions>> = Object.freeze({
  ...new LimitsSettings(),
});

/** `raw.limits` checked (unknown keys, types, ranges); problems collected as `limits.x`. */
export function resolveLimits(raw: unknown, problems: NodeOptionProblem[]): NodeLimits {
  const settings = new LimitsSettings();
  if (raw === undefined) return { ...settings };
  if (typeof raw !== 'object' || raw === null) {
    problems.push({ field: 'limits', message: 'must be an object' });
    return { ...settings };
  }
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in settings)) problems.push({ field: `limits.${key}`, message: 'unknown option' });
    else if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
  }
  for (const p of validationProblems(settings)) {
    problems.push({ field: `limits.${p.field}`, message: p.message });
  }
  if (settings.maxRequestsPerPeer > settings.maxRequests) {
    problems.push({ field: 'limits.maxRequestsPerPeer', message: 'must not exceed maxRequests' });
  }
  if (settings.maxCatchupServesPerPeer > settings.maxCatchupServes) {
    problems.push({
      field: 'limits.maxCatchupServesPerPeer',
      message: 'must not exceed maxCatchupServes',
    });
  }
  return { ...settings };
}
