/**
 * The shape check of an object handed in through options (a codec, a transport): checked once at
 * start, so a wrong object fails with the option's name instead of deep inside the first call.
 */

/** What `typeof` must say of a member; with `?`, the member may also be absent (undefined). */
export type MemberKind = 'function' | 'string' | 'object' | 'function?';

/**
 * Whether `value` is a non-null object whose members have the given kinds (an `object` member
 * must not be null).
 */
export function hasMembers(value: unknown, kinds: Readonly<Record<string, MemberKind>>): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const o = value as Record<string, unknown>;
  return Object.entries(kinds).every(([name, kind]) => {
    const member = o[name];
    if (kind === 'function?') return member === undefined || typeof member === 'function';
    return typeof member === kind && member !== null;
  });
}
