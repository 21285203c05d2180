/**
 * Options validated once at the edge and passed down: a resolver marks the object it returns
 * (frozen, remembered), and the layer below takes a marked object as it is instead of resolving
 * it again. The mark is kept beside the object (a WeakSet), so a plain object of the same shape
 * never passes for a resolved one, and the type carries a brand so the compiler tells them apart
 * too.
 */

declare const resolvedBrand: unique symbol;

/** `T` checked and completed by its resolver; immutable. */
export type Resolved<T> = Readonly<T> & { readonly [resolvedBrand]: true };

/** The marks of one resolver: what it returned, and only that, counts as resolved. */
export class ResolvedMarks<T extends object> {
  private readonly marked = new WeakSet<object>();

  /** Freeze `value` and remember it as resolved. */
  mark(value: T): Resolved<T> {
    Object.freeze(value);
    this.marked.add(value);
    return value as Resolved<T>;
  }

  /** Whether `value` is an object this resolver returned. */
  has(value: unknown): value is Resolved<T> {
    return typeof value === 'object' && value !== null && this.marked.has(value);
  }
}

/** A resolver that runs once per object: what it returned, it returns as it is. */
export interface OnceResolver<I extends object, T extends object> {
  (input: I | Resolved<T>): Resolved<T>;
  /** `value` with `patch` (fields known only later, checked by whoever provides them); resolved. */
  derive(value: Resolved<T>, patch: Partial<T>): Resolved<T>;
}

/**
 * Wrap `resolve` (checks `input`, throws its problem-list error, returns the filled-in options)
 * so its result is frozen and marked, and a marked input is returned without resolving again.
 */
export function resolveOnce<I extends object, T extends object>(
  resolve: (input: I) => T,
): OnceResolver<I, T> {
  const marks = new ResolvedMarks<T>();
  const resolver = (input: I | Resolved<T>): Resolved<T> =>
    marks.has(input) ? input : marks.mark(resolve(input as I));
  return Object.assign(resolver, {
    derive: (value: Resolved<T>, patch: Partial<T>) => marks.mark({ ...value, ...patch }),
  });
}
