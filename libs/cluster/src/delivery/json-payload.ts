/**
 * JSON encoding of payloads that refuses what JSON would silently lose. `JSON.stringify` turns a
 * `Map` or a `Set` into `{}`, drops functions and symbols, keeps only the own enumerable fields of
 * a class instance (its class, getters and `#private` fields are gone) and mangles a nested
 * `Uint8Array` into `{"0":..,"1":..}`: the receiver would get something else than was sent, with
 * no error anywhere. Here such a value makes encoding throw {@link UnserializablePayloadError}, so
 * `publish`, `request` and replies reject where the value is sent.
 *
 * Carried: `null`, booleans, finite numbers, strings, arrays, plain objects (any realm's
 * `Object.prototype`, or a null prototype), and any object with a `toJSON` method (`Date`,
 * `Buffer`, or a class that says how it travels); `undefined` fields are left out as JSON does.
 */
import { PlumtreeNodeError } from '../plumtree-node-error.js';

/** A payload holds a value JSON cannot carry; `path` says where (`payload.items[2]`). */
export class UnserializablePayloadError extends PlumtreeNodeError {
  override readonly name = 'UnserializablePayloadError';
  constructor(
    /** Where the value sits in the payload. */
    readonly path: string,
    /** What it is: `Map`, `Set`, `function`, an instance of class `Order`, ... */
    readonly kind: string,
  ) {
    super(
      `${path} is ${kind}, which JSON cannot carry (it would arrive changed or empty): ` +
        'send plain objects and arrays, convert it first (e.g. Object.fromEntries(map), [...set], ' +
        '{ ...instance }), give its class a toJSON method, or configure a codec that carries it',
    );
  }
}

/** Encode `value` as JSON text; throws {@link UnserializablePayloadError} (see the file comment). */
export function stringifyPayload(value: unknown): string | undefined {
  // A check before a plain stringify: a replacer function would double the cost of every encode.
  const bad = findUnsupported(value, 0);
  if (bad !== undefined) throw new UnserializablePayloadError(`payload${bad.path}`, bad.kind);
  return JSON.stringify(value) as string | undefined;
}

/** Deeper than this the check stops (JSON.stringify then throws on a cycle by itself). */
const MAX_CHECK_DEPTH = 512;

/** The first value JSON cannot carry, with its path below `v` (built only on failure). */
function findUnsupported(v: unknown, depth: number): { path: string; kind: string } | undefined {
  const kind = unsupportedKind(v);
  if (kind !== undefined) return { path: '', kind };
  if (typeof v !== 'object' || v === null || depth > MAX_CHECK_DEPTH) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = findUnsupported(v[i], depth + 1);
      if (bad !== undefined) return { path: `[${i}]${bad.path}`, kind: bad.kind };
    }
    return undefined;
  }
  // An object with toJSON says itself how it travels.
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return undefined;
  for (const k in v) {
    const bad = findUnsupported((v as Record<string, unknown>)[k], depth + 1);
    if (bad !== undefined) return { path: `.${k}${bad.path}`, kind: bad.kind };
  }
  return undefined;
}

/** Why JSON cannot carry `v`, or undefined when it can. */
function unsupportedKind(v: unknown): string | undefined {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return undefined;
  const proto = Object.getPrototypeOf(v) as object | null;
  // A plain object: its prototype is null or some realm's Object.prototype (whose own is null).
  if (proto === null || Object.getPrototypeOf(proto) === null) return undefined;
  const name = (proto.constructor as { name?: unknown } | undefined)?.name;
  if (typeof name === 'string' && BUILT_IN.has(name)) return `a ${name}`;
  return typeof name === 'string' && name.length > 0
    ? `an instance of class ${name} without toJSON`
    : 'an object with a custom prototype and no toJSON';
}

/** Built-ins named as such in the error rather than as "an instance of class". */
const BUILT_IN = new Set([
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'WeakRef',
  'Promise',
  'RegExp',
  'Error',
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Uint8Array',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
]);
