/**
 * The topic a Nest pattern travels on. Nest's transports accept any pattern: a string, or an
 * object (`{ cmd: 'sum' }`) that Nest normalises to a route (`{"cmd":"sum"}`, keys sorted). A
 * topic here is dot-separated segments with `*` and `#` wildcard segments, at most 255 bytes. So:
 *
 * - a string route that is a valid topic or pattern and holds no `%` is used as it is, wildcards
 *   included (`orders.created`, `math.*`, `billing.#`);
 * - any other route (every object pattern, which Nest matches literally, `{ cmd: '*' }` too; a
 *   string that is no valid topic such as `a.#.b` or `a..b`) is a literal topic: `%` followed by
 *   the route with `%`, `.`, `*`, `#` and lone surrogates percent-escaped, so it is one segment with
 *   no wildcard and matches exactly the same route; above 255 bytes its tail is replaced by
 *   `%!` and a SHA-256 of the whole route.
 *
 * The mapping is injective (a topic used as it is never contains `%`; an escaped one starts with
 * it) and the client and the server apply the same one to the same route, so a `send` reaches the
 * handler of its pattern whatever the pattern is.
 */
import { createHash } from 'node:crypto';
import { MAX_TOPIC_BYTES, validatePattern } from '@plumtree/cluster';

/** Marker of the hashed tail of a long literal topic (never produced by the escaping). */
const HASH_MARK = '%!';
/** Bytes of the SHA-256 (base64url, 43 characters) and its marker. */
const HASH_TAIL_BYTES = HASH_MARK.length + 43;

/** The topic of a Nest route (`ClientProxy#normalizePattern` / `Server#normalizePattern` output). */
export function topicOfRoute(route: unknown): string {
  const s = typeof route === 'string' ? route : String(route);
  if (!s.startsWith('{') && !s.includes('%') && validatePattern(s) === null) return s;
  const literal = `%${escapeRoute(s)}`;
  if (Buffer.byteLength(literal, 'utf8') <= MAX_TOPIC_BYTES) return literal;
  const hash = createHash('sha256').update(s, 'utf8').digest('base64url');
  return `${truncateUtf8(literal, MAX_TOPIC_BYTES - HASH_TAIL_BYTES)}${HASH_MARK}${hash}`;
}

function escapeRoute(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 || c === 0x2e || c === 0x2a || c === 0x23) {
      out += `%${c.toString(16).toUpperCase()}`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else {
        // A lone surrogate has no UTF-8 form: keep it distinct as an escape.
        out += `%u${c.toString(16).toUpperCase()}`;
      }
    } else {
      out += s[i]!;
    }
  }
  return out;
}

/**
 * The longest prefix of `s` of at most `maxBytes` UTF-8 bytes, cut between characters (an escape
 * may be cut: the hash after it names the route).
 */
function truncateUtf8(s: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > maxBytes) break;
    bytes += n;
    end += ch.length;
  }
  return s.slice(0, end);
}
