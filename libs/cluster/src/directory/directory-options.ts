import type { Problem } from '@plumtree/common';
import { DirectoryOptionsError } from './directory-errors.js';
import { MAX_TOPIC_BYTES } from './topic-pattern.js';

/**
 * Limits of one topic directory. They bound what a peer's packet can make this node allocate
 * and keep: every decoded length and count is checked against them before anything is built.
 */
export interface DirectoryOptions {
  /**
   * Subscriptions (topics and patterns) in one node's entry, and separately its responders (the
   * topics it answers requests on). Default 1024.
   */
  readonly maxSubscriptions?: number;
  /** One topic or pattern in UTF-8 bytes, 1..255. Default 255. */
  readonly maxTopicBytes?: number;
  /** Entries (nodes, the local one included) the directory keeps. Default 10,000. */
  readonly maxEntries?: number;
  /** A node name in UTF-8 bytes. Default 512. */
  readonly maxNodeNameBytes?: number;
  /**
   * One encoded entry. Default 64 KiB: 1024 subscriptions of about 60 bytes. Raise it with
   * `maxSubscriptions` * `maxTopicBytes` if nodes really hold that many long topics.
   */
  readonly maxEntryBytes?: number;
  /**
   * Sum of the encoded sizes of all stored entries, and the largest push-pull state accepted.
   * Default 16 MiB (10,000 nodes of about 1.6 KiB each).
   */
  readonly maxTotalBytes?: number;
}

/** {@link DirectoryOptions} with every default filled in. */
export type ResolvedDirectoryOptions = Required<DirectoryOptions>;

/** The limits a directory uses when given none. */
export const DEFAULT_DIRECTORY_OPTIONS: Readonly<ResolvedDirectoryOptions> = Object.freeze({
  maxSubscriptions: 1024,
  maxTopicBytes: MAX_TOPIC_BYTES,
  maxEntries: 10_000,
  maxNodeNameBytes: 512,
  maxEntryBytes: 64 * 1024,
  maxTotalBytes: 16 * 1024 * 1024,
});

/**
 * Merge `options` over {@link DEFAULT_DIRECTORY_OPTIONS} and check them once, at construction:
 * every limit a positive safe integer, `maxTopicBytes` at most 255. Throws
 * {@link DirectoryOptionsError} listing every problem.
 */
export function resolveDirectoryOptions(options: DirectoryOptions = {}): ResolvedDirectoryOptions {
  // Undefined options keep their default (a spread would let `undefined` through).
  const merged: { -readonly [K in keyof DirectoryOptions]-?: number } = {
    ...DEFAULT_DIRECTORY_OPTIONS,
  };
  for (const key of Object.keys(DEFAULT_DIRECTORY_OPTIONS) as (keyof DirectoryOptions)[]) {
    const v = options[key];
    if (v !== undefined) merged[key] = v;
  }
  const problems: Problem[] = [];
  for (const key of Object.keys(merged) as (keyof ResolvedDirectoryOptions)[]) {
    const v = merged[key];
    if (!Number.isSafeInteger(v) || v < 1) {
      problems.push({ field: key, message: `must be a positive integer (got ${String(v)})` });
    }
  }
  if (merged.maxTopicBytes > MAX_TOPIC_BYTES) {
    problems.push({
      field: 'maxTopicBytes',
      message: `must be at most ${MAX_TOPIC_BYTES} (got ${merged.maxTopicBytes})`,
    });
  }
  if (merged.maxEntryBytes > merged.maxTotalBytes) {
    problems.push({
      field: 'maxEntryBytes',
      message: `must not exceed maxTotalBytes (${merged.maxTotalBytes}) (got ${merged.maxEntryBytes})`,
    });
  }
  if (problems.length > 0) throw new DirectoryOptionsError(problems);
  return merged;
}

/**
 * Check a directory's own node name against `options`: a non-empty string of at most
 * `maxNodeNameBytes` UTF-8 bytes. Throws {@link DirectoryOptionsError}.
 */
export function checkLocalName(localName: string, options: ResolvedDirectoryOptions): void {
  if (typeof localName !== 'string' || localName.length === 0) {
    throw new DirectoryOptionsError([
      { field: 'localName', message: 'must be a non-empty string' },
    ]);
  }
  if (Buffer.byteLength(localName, 'utf8') > options.maxNodeNameBytes) {
    throw new DirectoryOptionsError([
      {
        field: 'localName',
        message: `is longer than maxNodeNameBytes (${options.maxNodeNameBytes})`,
      },
    ]);
  }
}
