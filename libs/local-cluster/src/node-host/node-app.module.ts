/**
 * The Nest application of one node process: `PlumtreeModule` (the node, with the process's
 * fault hooks) and the chat rooms provider.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { PlumtreeModule, type PlumtreeModuleOptions } from '@plumtree/nestjs';
import { ChatRoomsService, DURABLE_ROOMS } from './chat-rooms.service.js';

@Module({})
export class NodeAppModule {
  /** The module of a node with these Plumtree options and durable rooms. */
  static forRoot(plumtree: PlumtreeModuleOptions, durableRooms: readonly string[]): DynamicModule {
    return {
      module: NodeAppModule,
      imports: [PlumtreeModule.forRoot(plumtree)],
      providers: [{ provide: DURABLE_ROOMS, useValue: new Set(durableRooms) }, ChatRoomsService],
    };
  }
}
