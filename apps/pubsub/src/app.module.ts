/**
 * The pubsub example's module. The node belongs to the `PlumtreeServer` started in main.ts
 * (`createMicroservice`); `PlumtreeModule` and the `PlumtreeClient` share it by name
 * (`shareServer: true`), so the whole app is one cluster member. `PlumtreeMetricsModule` adds
 * `GET /metrics`.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { ClientsModule } from '@nestjs/microservices';
import { PlumtreeClient, PlumtreeMetricsModule, PlumtreeModule } from '@plumtree/nestjs';
import { InventoryListener } from './inventory/inventory.listener.js';
import { OrderPublisher } from './order-publisher.js';
import { OrdersListener } from './orders/orders.listener.js';
import type { PubsubConfig } from './pubsub-config.js';
import { PubsubController } from './pubsub.controller.js';
import { PUBSUB_CLIENT, PUBSUB_CONFIG } from './pubsub.tokens.js';

/** See the file comment. */
@Module({})
export class AppModule {
  /** The module for a node named `config.name`. */
  static forRoot(config: PubsubConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlumtreeModule.forRoot({ shareServer: true, name: config.name }),
        // GET /metrics: Prometheus text of the node (main.ts serves HTTP on PUBSUB_HTTP_PORT).
        PlumtreeMetricsModule.forRoot(),
        ClientsModule.register([
          {
            name: PUBSUB_CLIENT,
            customClass: PlumtreeClient,
            options: { shareServer: true, name: config.name, requestTimeoutMs: 2_000 },
          },
        ]),
      ],
      controllers: [PubsubController],
      providers: [
        OrdersListener,
        InventoryListener,
        OrderPublisher,
        { provide: PUBSUB_CONFIG, useValue: config },
      ],
    };
  }
}
