/**
 * The cluster of the web chat as a Nest provider: launched when the application boots (the
 * page shows the nodes starting), stopped before the HTTP server closes, so the live streams end
 * and every node has left and exited when `app.close()` resolves.
 */
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { LocalCluster, type LocalClusterOptions } from '@plumtree/local-cluster';

/** Options of the cluster, provided by `WebChatModule.forRoot`. */
export const LOCAL_CLUSTER_OPTIONS = Symbol('LOCAL_CLUSTER_OPTIONS');

@Injectable()
export class LocalClusterService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('LocalCluster');
  /** The cluster (its nodes start at bootstrap). */
  readonly cluster: LocalCluster;

  constructor(@Inject(LOCAL_CLUSTER_OPTIONS) options: LocalClusterOptions) {
    this.cluster = new LocalCluster({
      ...options,
      log: (line) => this.logger.warn(line),
    });
  }

  onApplicationBootstrap(): void {
    this.cluster.launch().catch((e: unknown) => {
      if (!this.cluster.isStopping) this.logger.error((e as Error).message);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.cluster.stop();
  }
}
