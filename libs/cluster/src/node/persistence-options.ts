/**
 * The persistence part of the node options (`dataDir`, `persistence`, `staticSeeds`, `lazarus`,
 * `durable`; docs/persistence.md), checked with the rest of the options by
 * `resolvePlumtreeNodeOptions`: problems are collected into its list, not thrown.
 */
import { join } from 'node:path';
import { validatePattern } from '../directory/index.js';
import { validateSeedAddresses } from '../lazarus/seed-address.js';
import type { NodeOptionProblem } from './errors.js';

/** Defaults of the persistence options. */
export const PERSISTENCE_DEFAULTS: Readonly<{
  lazarusIntervalMs: number;
  retentionMs: number;
  maxMessages: number;
}> = Object.freeze({
  lazarusIntervalMs: 30_000,
  retentionMs: 24 * 60 * 60 * 1000,
  maxMessages: 100_000,
});

/** The persistence options checked and completed. */
export interface PersistenceSettings {
  /** The store directory, or null when `persistence` is false. */
  readonly dataDir: string | null;
  readonly staticSeeds: readonly string[];
  readonly lazarus: { readonly enabled: boolean; readonly intervalMs: number };
  readonly durable: {
    readonly topics: readonly string[];
    readonly retentionMs: number;
    readonly maxMessages: number;
  };
}

/** `dataDir`, `persistence`, `staticSeeds`, `lazarus` and `durable`, checked; problems collected. */
export function resolvePersistence(
  raw: Record<string, unknown>,
  name: unknown,
  problems: NodeOptionProblem[],
): PersistenceSettings {
  const persistence = raw['persistence'] ?? true;
  if (typeof persistence !== 'boolean') {
    problems.push({ field: 'persistence', message: 'must be a boolean' });
  }
  const dataDirRaw = raw['dataDir'];
  if (dataDirRaw !== undefined && (typeof dataDirRaw !== 'string' || dataDirRaw.length === 0)) {
    problems.push({ field: 'dataDir', message: 'must be a non-empty path' });
  }
  if (dataDirRaw !== undefined && persistence === false) {
    problems.push({ field: 'dataDir', message: 'set, but persistence is false' });
  }
  const safeName = typeof name === 'string' ? name.replace(/[^A-Za-z0-9._-]/g, '_') : 'node';
  const dataDir =
    persistence === false
      ? null
      : typeof dataDirRaw === 'string' && dataDirRaw.length > 0
        ? dataDirRaw
        : join('.plumtree', safeName);

  const staticSeedsRaw = raw['staticSeeds'] ?? [];
  let staticSeeds: string[] = [];
  if (!Array.isArray(staticSeedsRaw)) {
    problems.push({ field: 'staticSeeds', message: 'must be an array of host:port' });
  } else {
    staticSeeds = staticSeedsRaw as string[];
    for (const p of validateSeedAddresses(staticSeeds)) {
      problems.push({ field: 'staticSeeds', message: p });
    }
  }

  const lazarusRaw = raw['lazarus'] ?? {};
  let lazarus = { enabled: true, intervalMs: PERSISTENCE_DEFAULTS.lazarusIntervalMs };
  if (typeof lazarusRaw !== 'object' || lazarusRaw === null || Array.isArray(lazarusRaw)) {
    problems.push({ field: 'lazarus', message: 'must be an object' });
  } else {
    const l = lazarusRaw as Record<string, unknown>;
    for (const k of Object.keys(l)) {
      if (k !== 'enabled' && k !== 'intervalMs') {
        problems.push({ field: `lazarus.${k}`, message: 'unknown option' });
      }
    }
    const enabled = l['enabled'] ?? true;
    const intervalMs = l['intervalMs'] ?? PERSISTENCE_DEFAULTS.lazarusIntervalMs;
    if (typeof enabled !== 'boolean') {
      problems.push({ field: 'lazarus.enabled', message: 'must be a boolean' });
    }
    if (!isIntIn(intervalMs, 10, 24 * 60 * 60 * 1000)) {
      problems.push({
        field: 'lazarus.intervalMs',
        message: 'must be an integer in [10, 86400000]',
      });
    }
    lazarus = { enabled: enabled === true, intervalMs: intervalMs as number };
  }

  const durableRaw = raw['durable'] ?? {};
  let durable = {
    topics: [] as string[],
    retentionMs: PERSISTENCE_DEFAULTS.retentionMs,
    maxMessages: PERSISTENCE_DEFAULTS.maxMessages,
  };
  if (typeof durableRaw !== 'object' || durableRaw === null || Array.isArray(durableRaw)) {
    problems.push({ field: 'durable', message: 'must be an object' });
  } else {
    const d = durableRaw as Record<string, unknown>;
    for (const k of Object.keys(d)) {
      if (k !== 'topics' && k !== 'retentionMs' && k !== 'maxMessages') {
        problems.push({ field: `durable.${k}`, message: 'unknown option' });
      }
    }
    const topics = d['topics'] ?? [];
    const retentionMs = d['retentionMs'] ?? PERSISTENCE_DEFAULTS.retentionMs;
    const maxMessages = d['maxMessages'] ?? PERSISTENCE_DEFAULTS.maxMessages;
    if (!Array.isArray(topics)) {
      problems.push({ field: 'durable.topics', message: 'must be an array of topics or patterns' });
    } else {
      topics.forEach((t: unknown, i) => {
        const reason = typeof t === 'string' ? validatePattern(t) : 'not a string';
        if (reason !== null) problems.push({ field: `durable.topics[${i}]`, message: reason });
      });
    }
    if (!isIntIn(retentionMs, 1_000, Number.MAX_SAFE_INTEGER)) {
      problems.push({ field: 'durable.retentionMs', message: 'must be an integer >= 1000' });
    }
    if (!isIntIn(maxMessages, 1, 100_000_000)) {
      problems.push({ field: 'durable.maxMessages', message: 'must be an integer in [1, 1e8]' });
    }
    durable = {
      topics: Array.isArray(topics) ? [...new Set(topics as string[])] : [],
      retentionMs: retentionMs as number,
      maxMessages: maxMessages as number,
    };
  }
  return { dataDir, staticSeeds, lazarus, durable };
}

function isIntIn(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}
