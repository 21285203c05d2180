/**
 * IP addresses as memberlist carries them (Go `net.IP`: 4 or 16 bytes) and the `host:port`
 * strings the transport routes by.
 */

/** A destination: memberlist's `Address`, a `host:port` plus the node name expected there. */
export interface SwimAddress {
  /** `host:port`, IPv6 hosts in brackets. */
  readonly addr: string;
  /** The node expected at that address; empty when unknown (joining by address). */
  readonly name: string;
}

/** Go's `net.IP.String()` for 4- and 16-byte addresses (IPv4-mapped IPv6 prints as IPv4). */
export function formatIp(ip: Uint8Array): string {
  if (ip.length === 4) return `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`;
  if (ip.length === 16) {
    const mapped = ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
    if (mapped) return `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
    const groups: number[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((ip[i]! << 8) | ip[i + 1]!);
    // RFC 5952: compress the longest run (>= 2) of zero groups.
    let bestStart = -1;
    let bestLen = 0;
    for (let i = 0; i < 8;) {
      if (groups[i] !== 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && groups[j] === 0) j++;
      if (j - i > bestLen && j - i >= 2) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    const hex = groups.map((g) => g.toString(16));
    if (bestStart < 0) return hex.join(':');
    return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
  }
  return '';
}

/** Parses an IPv4 or IPv6 literal into 4 or 16 bytes; null when it is not one. */
export function parseIp(text: string): Uint8Array | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const bytes = v4.slice(1).map(Number);
    return bytes.every((b) => b <= 255) ? Uint8Array.from(bytes) : null;
  }
  if (!text.includes(':')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const parts = s.split(':');
    const out: number[] = [];
    for (const p of parts) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      out.push(parseInt(p, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [
    ...head,
    ...new Array<number>(halves.length === 2 ? missing : 0).fill(0),
    ...tail,
  ];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** Go's `net.JoinHostPort`: brackets around IPv6 hosts. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Splits `host:port` (IPv6 in brackets); null when malformed. */
export function splitHostPort(addr: string): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:]+):(\d+)$/.exec(addr);
  if (!m) return null;
  const port = Number(m[2]);
  return port <= 65535 ? { host: m[1]!, port } : null;
}

/** The `host:port` of an IP given as bytes. */
export function addressOf(ip: Uint8Array, port: number): string {
  return joinHostPort(formatIp(ip), port);
}

/** Byte equality, for comparing addresses and meta. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
