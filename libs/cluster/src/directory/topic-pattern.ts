/**
 * Topic names and subscription patterns.
 *
 * A topic is 1..255 bytes of UTF-8 made of segments separated by `.`, none of them empty.
 * A pattern is a topic in which a whole segment may be a wildcard:
 * - `*` matches exactly one segment (`orders.*` matches `orders.eu`, not `orders.eu.x`);
 * - `#` matches one or more trailing segments and may only be the last segment
 *   (`orders.#` matches `orders.eu` and `orders.eu.x`, not `orders`).
 * `*` and `#` anywhere else (`ord*`, `a#b`, `#.x`) are rejected, so a literal topic can never be
 * mistaken for a pattern and the other way round.
 *
 * {@link topicMatches} runs once per received frame, so patterns are compiled once and cached.
 */

/** Largest topic or pattern in UTF-8 bytes (the frame codec's str8 limit). */
export const MAX_TOPIC_BYTES = 255;

/** Separator of topic segments. */
export const TOPIC_SEPARATOR = '.';

/** Wildcard matching exactly one segment. */
export const SINGLE_SEGMENT_WILDCARD = '*';

/** Wildcard matching one or more trailing segments; only valid as the last segment. */
export const TRAILING_WILDCARD = '#';

// A lone surrogate has no UTF-8 form: TextEncoder would replace it with U+FFFD, so two different
// JavaScript strings would travel as the same topic. With the `u` flag only lone ones match.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why `topic` is not a valid concrete topic (one a message is published to), or null when it is.
 * Wildcards are refused here: a message goes to one topic; patterns are for subscribing.
 */
export function validateTopic(topic: string): string | null {
  return validate(topic, false);
}

/**
 * Why `pattern` is not a valid subscription (a concrete topic or a pattern), or null when it is.
 */
export function validatePattern(pattern: string): string | null {
  return validate(pattern, true);
}

function validate(s: string, allowWildcards: boolean): string | null {
  const what = allowWildcards ? 'topic pattern' : 'topic';
  if (typeof s !== 'string') return `${what} must be a string (got ${typeof s})`;
  if (s.length === 0) return `${what} is empty`;
  // Cheap upper bound first: a UTF-16 code unit is at most 3 UTF-8 bytes.
  if (s.length * 3 > MAX_TOPIC_BYTES) {
    const bytes = Buffer.byteLength(s, 'utf8');
    if (bytes > MAX_TOPIC_BYTES) {
      return `${what} is ${bytes} bytes of UTF-8, more than ${MAX_TOPIC_BYTES}`;
    }
  }
  if (LONE_SURROGATE.test(s)) return `${what} contains a lone UTF-16 surrogate (not valid UTF-8)`;
  const segments = s.split(TOPIC_SEPARATOR);
  const last = segments.length - 1;
  for (let i = 0; i <= last; i++) {
    const seg = segments[i]!;
    if (seg.length === 0) {
      const where = i === 0 ? 'leading' : i === last ? 'trailing' : 'doubled';
      return `${what} "${s}" has an empty segment (${where} '.')`;
    }
    if (seg === SINGLE_SEGMENT_WILDCARD || seg === TRAILING_WILDCARD) {
      if (!allowWildcards) {
        return `topic "${s}" contains the wildcard segment '${seg}'; wildcards are only for subscribing`;
      }
      if (seg === TRAILING_WILDCARD && i !== last) {
        return `topic pattern "${s}": '#' may only be the last segment`;
      }
      continue;
    }
    if (seg.includes(SINGLE_SEGMENT_WILDCARD) || seg.includes(TRAILING_WILDCARD)) {
      return `${what} "${s}": segment "${seg}" mixes '*' or '#' with other characters; a wildcard must be a whole segment`;
    }
  }
  return null;
}

/**
 * Whether `s` has a wildcard segment (`*` anywhere, `#` last). Says nothing about validity:
 * check {@link validatePattern} first.
 */
export function isPattern(s: string): boolean {
  if (!s.includes(SINGLE_SEGMENT_WILDCARD) && !s.includes(TRAILING_WILDCARD)) return false;
  const c = compiled(s);
  return c !== EXACT && c !== INVALID;
}

/**
 * Whether the subscription `pattern` (a concrete topic or a pattern) matches the concrete
 * `topic`. An invalid pattern matches nothing. `topic` is taken as given (validate it where it
 * enters): a `*` in it is just a character, so only an identical pattern matches it.
 *
 * Cost: one cache lookup, then a walk over `topic` with `indexOf` and `startsWith`; no
 * allocation after a pattern's first use.
 */
export function topicMatches(pattern: string, topic: string): boolean {
  const c = compiled(pattern);
  if (c === EXACT) return pattern === topic;
  if (c === INVALID) return false;
  return matchCompiled(c, topic);
}

/** A pattern split into segments; `null` stands for `*`. */
interface CompiledPattern {
  readonly segments: readonly (string | null)[];
  /** The pattern ends with `#`, which is not in `segments`. */
  readonly trailing: boolean;
}

const EXACT = 0;
const INVALID = 1;
type Compiled = CompiledPattern | typeof EXACT | typeof INVALID;

/**
 * Compiled patterns by source. Bounded because topics come from peers: when full it is cleared
 * (recompiling costs one split) rather than tracking recency on the per-frame path.
 */
const cache = new Map<string, Compiled>();
const MAX_CACHED_PATTERNS = 4096;

function compiled(pattern: string): Compiled {
  let c = cache.get(pattern);
  if (c === undefined) {
    c = compile(pattern);
    if (cache.size >= MAX_CACHED_PATTERNS) cache.clear();
    cache.set(pattern, c);
  }
  return c;
}

function compile(pattern: string): Compiled {
  if (validatePattern(pattern) !== null) return INVALID;
  const parts = pattern.split(TOPIC_SEPARATOR);
  let trailing = false;
  if (parts[parts.length - 1] === TRAILING_WILDCARD) {
    trailing = true;
    parts.pop();
  }
  if (!trailing && !parts.includes(SINGLE_SEGMENT_WILDCARD)) return EXACT;
  return {
    segments: parts.map((p) => (p === SINGLE_SEGMENT_WILDCARD ? null : p)),
    trailing,
  };
}

function matchCompiled(c: CompiledPattern, topic: string): boolean {
  const segs = c.segments;
  const n = segs.length;
  const len = topic.length;
  // `pos` is the start of the next unread segment; len + 1 once the topic is used up.
  let pos = 0;
  for (let i = 0; i < n; i++) {
    if (pos > len) return false;
    const seg = segs[i]!;
    let end: number;
    if (seg === null) {
      end = topic.indexOf(TOPIC_SEPARATOR, pos);
      if (end === -1) end = len;
      if (end === pos) return false;
    } else {
      // A literal needs no scan: it must sit at `pos` and be followed by '.' or the end.
      end = pos + seg.length;
      if (!topic.startsWith(seg, pos) || (end < len && topic.charCodeAt(end) !== DOT)) {
        return false;
      }
    }
    pos = end + 1;
  }
  // `#` needs at least one more (non-empty) segment; otherwise the topic must be used up.
  return c.trailing ? pos < len : pos === len + 1;
}

const DOT = 0x2e;
