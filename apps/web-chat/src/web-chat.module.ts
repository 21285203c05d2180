/**
 * The web chat application: the cluster provider and the API controller.
 */
import { Module, ValidationPipe, type DynamicModule } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import type { LocalClusterOptions } from '@plumtree/local-cluster';
import { LOCAL_CLUSTER_OPTIONS, LocalClusterService } from './local-cluster.service.js';
import { WebChatController } from './web-chat.controller.js';

@Module({})
export class WebChatModule {
  /** The application for a cluster with these options. */
  static forRoot(cluster: LocalClusterOptions): DynamicModule {
    return {
      module: WebChatModule,
      controllers: [WebChatController],
      providers: [
        { provide: LOCAL_CLUSTER_OPTIONS, useValue: cluster },
        LocalClusterService,
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }),
        },
      ],
    };
  }
}
