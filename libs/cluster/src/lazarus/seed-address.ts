/**
 * Static seed addresses (`host:port`) as Lazarus and the node options take them. A host is an
 * IPv4 literal, an IPv6 literal in brackets, or a DNS name; names are resolved at probe time, so a
 * seed whose address changes across restarts (a container, a DNS record) is still found.
 */
import { formatIp, joinHostPort, parseIp, splitHostPort } from '@plumtree/swim';

/** A seed split into host and port; `ip` is set when the host is an IP literal. */
export interface SeedAddress {
  /** The seed as configured. */
  readonly seed: string;
  /** The host part, without brackets. */
  readonly host: string;
  readonly port: number;
  /** The canonical `host:port` (as members' addresses print) when the host is an IP literal. */
  readonly ip: string | null;
}

/** A DNS name after RFC 1123: dot-separated labels of letters, digits and inner hyphens. */
const HOSTNAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * Parses one seed; returns a problem text instead when it is not `host:port` with a port in
 * [1, 65535] and a host that is an IP literal (IPv6 in brackets) or a DNS name.
 */
export function parseSeedAddress(seed: string): SeedAddress | string {
  const hp = splitHostPort(seed);
  if (!hp) return `seed ${JSON.stringify(seed)}: expected host:port (IPv6 as [addr]:port)`;
  if (hp.port < 1) return `seed ${JSON.stringify(seed)}: port must be in [1, 65535]`;
  const bytes = parseIp(hp.host);
  if (bytes) {
    // An IPv6 host must come in brackets; splitHostPort only accepts it that way, so here it did.
    return { seed, host: hp.host, port: hp.port, ip: joinHostPort(formatIp(bytes), hp.port) };
  }
  if (/^[\d.]+$/.test(hp.host) || !HOSTNAME.test(hp.host)) {
    return `seed ${JSON.stringify(seed)}: ${JSON.stringify(hp.host)} is neither an IP address nor a host name`;
  }
  return { seed, host: hp.host, port: hp.port, ip: null };
}

/**
 * Checks seed strings (for option validation): one problem text per invalid seed, plus one per
 * duplicate; empty when all are valid.
 */
export function validateSeedAddresses(seeds: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const s of seeds) {
    if (typeof s !== 'string') {
      problems.push(`seed ${String(s)}: not a string`);
      continue;
    }
    const parsed = parseSeedAddress(s);
    if (typeof parsed === 'string') {
      problems.push(parsed);
      continue;
    }
    const key = parsed.ip ?? s.toLowerCase();
    if (seen.has(key)) problems.push(`seed ${JSON.stringify(s)}: listed twice`);
    seen.add(key);
  }
  return problems;
}

/** The canonical form of an IP `host:port` (compressed IPv6), or the input when it is not one. */
export function canonicalAddress(address: string): string {
  const hp = splitHostPort(address);
  const bytes = hp ? parseIp(hp.host) : null;
  return hp && bytes ? joinHostPort(formatIp(bytes), hp.port) : address;
}
