/**
 * The checks a local change of the directory passes before it is made: a valid, not too long,
 * new topic or pattern within `maxSubscriptions`; the entry within `maxEntryBytes`; a version
 * left below 2^53. Each throws the typed error its caller documents.
 */
import { directoryEntryBodySize, type GroupMembership } from './directory-codec.js';
import { DirectoryLimitError, InvalidTopicError } from './directory-errors.js';
import type { ResolvedDirectoryOptions } from './directory-options.js';
import { validatePattern } from './topic-pattern.js';

/**
 * Whether `topicOrPattern` is valid and `key` (the topic itself, or a group membership's key) is
 * not in `list` yet; throws when it cannot be added (see the file comment).
 */
export function isNewLocal(
  options: ResolvedDirectoryOptions,
  topicOrPattern: string,
  list: readonly string[],
  verb: string,
  key: string = topicOrPattern,
): boolean {
  const reason = validatePattern(topicOrPattern);
  if (reason !== null) throw new InvalidTopicError(topicOrPattern, reason);
  const { maxTopicBytes, maxSubscriptions } = options;
  if (Buffer.byteLength(topicOrPattern, 'utf8') > maxTopicBytes) {
    throw new InvalidTopicError(
      topicOrPattern,
      `topic pattern is longer than maxTopicBytes (${maxTopicBytes})`,
    );
  }
  if (list.includes(key)) return false;
  if (list.length + 1 > maxSubscriptions) {
    throw new DirectoryLimitError(
      'maxSubscriptions',
      `cannot ${verb} "${topicOrPattern}": this node already holds maxSubscriptions (${maxSubscriptions})`,
    );
  }
  return true;
}

/** The local entry's lists after a change. */
export interface LocalLists {
  readonly subscriptions: readonly string[];
  readonly responders: readonly string[];
  readonly groups: readonly GroupMembership[];
}

/** Throws `DirectoryLimitError` when the local entry would pass `maxEntryBytes`. */
export function checkEntrySize(
  options: ResolvedDirectoryOptions,
  localName: string,
  version: number,
  lists: LocalLists,
  what: string,
): void {
  const { maxEntryBytes } = options;
  const { subscriptions, responders, groups } = lists;
  const body = directoryEntryBodySize(localName, version, subscriptions, responders, groups);
  // + 2: the entry message's codec version and kind bytes.
  if (2 + body > maxEntryBytes) {
    throw new DirectoryLimitError(
      'maxEntryBytes',
      `cannot ${what}: the local entry would exceed maxEntryBytes (${maxEntryBytes})`,
    );
  }
}

/** `max(version + 1, nowMs)`: the version of the next local change (see topic-directory.ts). */
export function nextVersion(version: number, nowMs: number): number {
  if (!Number.isFinite(nowMs) || nowMs < 0) {
    throw new TypeError(`nowMs must be a finite non-negative number (got ${String(nowMs)})`);
  }
  const next = Math.max(version + 1, Math.floor(nowMs));
  if (!Number.isSafeInteger(next)) {
    throw new DirectoryLimitError('version', 'the local version has no room left below 2^53');
  }
  return next;
}
