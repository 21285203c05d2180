/**
 * The pubsub example's settings, read from environment variables so several copies can run
 * side by side:
 *
 *   PUBSUB_NAME        node name, unique in the cluster        (default pubsub-<port>)
 *   PUBSUB_BIND        address to bind UDP and TCP to          (default 127.0.0.1)
 *   PUBSUB_PORT        port of SWIM and the Plumtree frames     (default 7946)
 *   PUBSUB_SEEDS       comma-separated host:port to join        (default none: first node)
 *   PUBSUB_PUBLISH_MS  period of the demo publisher, 0 = off    (default 2000)
 *   PUBSUB_HTTP_PORT   HTTP port of GET /metrics, 0 = off        (default PUBSUB_PORT + 1000)
 */

/** What the example needs to start. */
export interface PubsubConfig {
  readonly name: string;
  readonly bindAddr: string;
  readonly bindPort: number;
  readonly seeds: readonly string[];
  readonly publishEveryMs: number;
  /** HTTP port of `GET /metrics` on `bindAddr`; 0 for no HTTP server. */
  readonly httpPort: number;
}

/** A variable that does not parse. */
export class PubsubConfigError extends Error {
  override readonly name = 'PubsubConfigError';
}

/** Read {@link PubsubConfig} from `env`; throws a {@link PubsubConfigError} naming every bad variable. */
export function pubsubConfigFromEnv(env: NodeJS.ProcessEnv): PubsubConfig {
  const problems: string[] = [];
  const int = (key: string, fallback: number, max: number): number => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > max) {
      problems.push(`${key} must be an integer in [0, ${max}], got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return n;
  };
  const bindPort = int('PUBSUB_PORT', 7946, 65535);
  const publishEveryMs = int('PUBSUB_PUBLISH_MS', 2_000, 3_600_000);
  const httpPort = int('PUBSUB_HTTP_PORT', bindPort === 0 ? 0 : (bindPort + 1000) % 65536, 65535);
  if (problems.length > 0) throw new PubsubConfigError(problems.join('; '));
  return {
    name: env['PUBSUB_NAME'] || `pubsub-${bindPort}`,
    bindAddr: env['PUBSUB_BIND'] || '127.0.0.1',
    bindPort,
    seeds: (env['PUBSUB_SEEDS'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
    publishEveryMs,
    httpPort,
  };
}
