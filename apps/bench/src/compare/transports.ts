/**
 * The Nest transport server and client of each run, built the way a Nest user builds them:
 * Nest 12's own `ServerNats`/`ClientNats` and `ServerRedis`/`ClientRedis` with their defaults,
 * and ours (`PlumtreeServer`/`PlumtreeClient`) with `swim: { preset: 'local' }` (memberlist's
 * loopback timers) and `persistence: false` (the run measures the transport, not the store).
 */
import type { Observable } from 'rxjs';
import { Logger } from '@nestjs/common';
import {
  ClientNats,
  ClientRedis,
  ServerNats,
  ServerRedis,
  type MessageHandler,
} from '@nestjs/microservices';
import type { PlumtreeNode } from '@plumtree/cluster';
import { PlumtreeClient, PlumtreeServer, type PlumtreeModuleOptions } from '@plumtree/nestjs';
import type { TransportName } from './compare-options.js';
import {
  PATTERN,
  type BrokerAddress,
  type ChildConfig,
  type InFlight,
} from './compare-protocol.js';

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

function oursOptions(cfg: ChildConfig): PlumtreeModuleOptions {
  return {
    name: cfg.name,
    bindAddr: '127.0.0.1',
    bindPort: 0,
    seeds: cfg.seeds,
    swim: { preset: 'local' },
    persistence: false,
  };
}

/**
 * Server and client of each transport. `ours-tree`: the client's node subscribes to the pattern
 * (`topics`), so it publishes into the tree it is part of; `ours-handoff`: it does not, so each
 * publish is handed to a subscriber, which injects it.
 */
const ENDPOINTS: Record<
  TransportName,
  {
    readonly server: (cfg: ChildConfig) => TransportServer;
    readonly client: (cfg: ChildConfig) => TransportClient;
  }
> = {
  nats: {
    server: (cfg) => new ServerNats(natsOptions(cfg)),
    client: (cfg) => new ClientNats(natsOptions(cfg)),
  },
  redis: {
    server: (cfg) => new ServerRedis(redisOptions(cfg)),
    client: (cfg) => new ClientRedis(redisOptions(cfg)),
  },
  'ours-tree': {
    server: (cfg) => new PlumtreeServer(oursOptions(cfg)),
    client: (cfg) => new PlumtreeClient({ ...oursOptions(cfg), topics: [PATTERN] }),
  },
  'ours-handoff': {
    server: (cfg) => new PlumtreeServer(oursOptions(cfg)),
    client: (cfg) => new PlumtreeClient(oursOptions(cfg)),
  },
};

/** The subscriber's transport server for `cfg.transport`. */
export function createServer(cfg: ChildConfig): TransportServer {
  return ENDPOINTS[cfg.transport].server(cfg);
}

/** The publisher's client proxy for `cfg.transport` (see {@link ENDPOINTS}). */
export function createClient(cfg: ChildConfig): TransportClient {
  return ENDPOINTS[cfg.transport].client(cfg);
}

/**
 * Ours: the node's view of the run's topic (see `FromChild` `view`); undefined for the broker
 * transports, which have no view to wait for.
 */
export function oursView(
  role: ChildConfig['role'],
  transport: ChildConfig['transport'],
  endpoint: TransportServer | TransportClient,
): number | undefined {
  if (!(endpoint instanceof PlumtreeServer) && !(endpoint instanceof PlumtreeClient)) {
    return undefined;
  }
  const node = endpoint.unwrap<PlumtreeNode>();
  if (role === 'publisher' && transport === 'ours-handoff') {
    return node.subscribersOf(PATTERN).length;
  }
  return node.stats().topics[PATTERN]?.peers ?? 0;
}

/** Ours: what the node still holds that can become a delivery; zeros for the broker transports. */
export function inFlight(endpoint: TransportServer | TransportClient): InFlight {
  if (!(endpoint instanceof PlumtreeServer) && !(endpoint instanceof PlumtreeClient)) {
    return { type: 'in-flight', missing: 0, queuedDeliveries: 0, queuedBytes: 0 };
  }
  const s = endpoint.unwrap<PlumtreeNode>().stats();
  return {
    type: 'in-flight',
    missing: s.core.missing,
    queuedDeliveries: s.node.deliveryQueue.pending,
    queuedBytes: s.transport.queuedBytes,
  };
}

/** `host:port` of ours (the address others join), undefined for the broker transports. */
export function oursAddress(endpoint: TransportServer | TransportClient): string | undefined {
  if (!(endpoint instanceof PlumtreeServer) && !(endpoint instanceof PlumtreeClient)) {
    return undefined;
  }
  return endpoint.unwrap<PlumtreeNode>().address;
}
