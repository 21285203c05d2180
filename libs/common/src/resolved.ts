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
