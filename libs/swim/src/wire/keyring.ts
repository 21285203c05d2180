/**
 * The keyring of AES keys (keyring.go): the primary key encrypts, every key is tried to
 * decrypt, primary first. Keys are 16, 24 or 32 bytes (AES-128/192/256-GCM).
 */

/** A key or keyring operation memberlist would refuse. */
export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

/** Throws {@link KeyringError} unless `key` is 16, 24 or 32 bytes (keyring.go `ValidateKey`). */
export function validateKey(key: Uint8Array): void {
  const l = key.length;
  if (l !== 16 && l !== 24 && l !== 32)
    throw new KeyringError('key size must be 16, 24 or 32 bytes');
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** memberlist's `Keyring`: an ordered key list whose first key is the primary. */
export class Keyring {
  private keys: Uint8Array[] = [];

  /**
   * As Go's `NewKeyring(keys, primaryKey)`: the primary first, then the others (duplicates
   * dropped). No keys at all gives an empty keyring (encryption disabled).
   */
  constructor(keys: readonly Uint8Array[] = [], primaryKey?: Uint8Array) {
    if (keys.length > 0 || (primaryKey !== undefined && primaryKey.length > 0)) {
      if (primaryKey === undefined || primaryKey.length === 0) {
        throw new KeyringError('Empty primary key not allowed');
      }
      this.addKey(primaryKey);
      for (const k of keys) this.addKey(k);
    }
  }

  /** Installs a key (not primary); installing a known key does nothing. */
  addKey(key: Uint8Array): void {
    validateKey(key);
    if (this.keys.some((k) => sameKey(k, key))) return;
    const copy = Uint8Array.from(key);
    // The first key installed becomes the primary, as in Go.
    this.keys.push(copy);
  }

  /** Makes an installed key the primary (Go `UseKey`). */
  useKey(key: Uint8Array): void {
    const i = this.keys.findIndex((k) => sameKey(k, key));
    if (i < 0) throw new KeyringError('Requested key is not in the keyring');
    const [k] = this.keys.splice(i, 1);
    this.keys.unshift(k!);
  }

  /** Removes a key; the primary cannot be removed (Go `RemoveKey`). */
  removeKey(key: Uint8Array): void {
    if (this.keys.length > 0 && sameKey(this.keys[0]!, key)) {
      throw new KeyringError('Removing the primary key is not allowed');
    }
    this.keys = this.keys.filter((k) => !sameKey(k, key));
  }

  /** All keys, primary first, in the order decryption tries them. */
  getKeys(): readonly Uint8Array[] {
    return this.keys;
  }

  /** The key that encrypts, or undefined when the keyring is empty. */
  getPrimaryKey(): Uint8Array | undefined {
    return this.keys[0];
  }

  /** True when there is at least one key (Go `Config.EncryptionEnabled`). */
  get enabled(): boolean {
    return this.keys.length > 0;
  }
}
