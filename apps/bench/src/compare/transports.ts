/**
 * The Nest transport server and client of each run, built the way a Nest user builds them:
 * Nest 12's own `ServerNats`/`ClientNats` and `ServerRedis`/`ClientRedis` with their defaults,
 * and ours (ours-endpoints.ts) loaded only by the children of our runs.
 *
 * Each child imports only the transport it runs: a child that also loaded the other transports'
 * libraries would carry their memory in its resident set (our libraries add about 12 MB to a
 * process that already holds Nest), and the RSS column would compare more than the transports.
 */
import type { Observable } from 'rxjs';
import { Logger } from '@nestjs/common';
import type { MessageHandler } from '@nestjs/microservices';
import type { TransportName } from './compare-options.js';
import type { BrokerAddress, ChildConfig, InFlight } from './compare-protocol.js';

/** What the bench uses of a Nest transport server (what `NestFactory.createMicroservice` runs). */
export interface TransportServer {
  addHandler(pattern: string, callback: MessageHandler, isEventHandler?: boolean): void;
  listen(callback: (err?: unknown, ...info: unknown[]) => void): unknown;
  close(): unknown;
}

/** What the bench uses of a Nest `ClientProxy`. */
export interface TransportClient {
  connect(): Promise<unknown>;
  emit(pattern: string, data: unknown): Observable<unknown>;
  close(): unknown;
}

/**
 * A child's server or client with what the parent asks of it besides the run: ours reports its
 * view, what it still holds in flight and its address; the broker transports have none of these.
 */
export interface Endpoint<T> {
  readonly endpoint: T;
  /** Ours: the topic's peers (or a hand-off publisher's known subscribers); 0 otherwise. */
  view(): number;
  /** Ours: what the node still holds that can become a delivery; zeros otherwise. */
  inFlight(): InFlight;
  /** Ours: `host:port` (the address others join); undefined otherwise. */
  address(): string | undefined;
}

/**
 * Nest's logger at `warn` and `error` in the bench's children: the transports' connect and
 * close notices would interleave with the bench's output; their warnings and errors still show.
 */
export function quietNestLogs(): void {
  Logger.overrideLogger(['warn', 'error']);
}

function broker(cfg: ChildConfig): BrokerAddress {
  if (cfg.broker === undefined) throw new Error(`${cfg.transport} needs a broker address`);
  return cfg.broker;
}

const natsOptions = (cfg: ChildConfig): { servers: string[] } => ({
  servers: [`nats://${broker(cfg).host}:${broker(cfg).port.toString()}`],
});

const redisOptions = (cfg: ChildConfig): BrokerAddress => ({
  host: broker(cfg).host,
  port: broker(cfg).port,
});

/** A broker transport's endpoint: nothing to report beyond the run. */
function brokerEndpoint<T>(endpoint: T): Endpoint<T> {
  return {
    endpoint,
    view: () => 0,
    inFlight: () => ({
      type: 'in-flight',
      missing: 0,
      queuedDeliveries: 0,
      queuedBytes: 0,
      givenUp: { graftsFailed: 0, graftsMissed: 0, missingEvicted: 0, missingOverBudget: 0 },
    }),
    address: () => undefined,
  };
}

const isOurs = (t: TransportName): t is 'ours-tree' | 'ours-handoff' =>
  t === 'ours-tree' || t === 'ours-handoff';

/** The subscriber's transport server for `cfg.transport`. */
export function createServer(cfg: ChildConfig): Promise<Endpoint<TransportServer>> {
  return create(cfg, 'server');
}

/** The publisher's client proxy for `cfg.transport`. */
export function createClient(cfg: ChildConfig): Promise<Endpoint<TransportClient>> {
  return create(cfg, 'client');
}

async function create<R extends 'server' | 'client'>(
  cfg: ChildConfig,
  role: R,
): Promise<Endpoint<R extends 'server' ? TransportServer : TransportClient>> {
  type Out = Endpoint<R extends 'server' ? TransportServer : TransportClient>;
  if (isOurs(cfg.transport)) {
    const ours = await import('./ours-endpoints.js');
    return (role === 'server' ? ours.oursServer(cfg) : ours.oursClient(cfg)) as Out;
  }
  const m = await import('@nestjs/microservices');
  const nats = cfg.transport === 'nats';
  const e =
    role === 'server'
      ? nats
        ? new m.ServerNats(natsOptions(cfg))
        : new m.ServerRedis(redisOptions(cfg))
      : nats
        ? new m.ClientNats(natsOptions(cfg))
        : new m.ClientRedis(redisOptions(cfg));
  return brokerEndpoint(e) as unknown as Out;
}
