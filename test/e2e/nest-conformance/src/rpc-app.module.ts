/**
 * The module of Nest's TCP transport spec (`integration/microservices/src/app.module.ts`), for
 * this transport: clients registered with `ClientsModule.registerAsync` through `useFactory`,
 * `useClass` and a custom client class, all `PlumtreeClient`s joining the seed.
 */
import { Injectable, Module } from '@nestjs/common';
import {
  ClientsModule,
  RpcException,
  type ClientOptions,
  type ClientsModuleOptionsFactory,
} from '@nestjs/microservices';
import { PlumtreeClient } from '@plumtree/nestjs';
import { memberOptions } from '../support/conformance-env.js';
import {
  CUSTOM_PROXY_CLIENT,
  DEFAULT_CLIENT,
  RpcAppController,
  USE_CLASS_CLIENT,
  USE_FACTORY_CLIENT,
} from './rpc-app.controller.js';

/** A client whose errors are RpcExceptions (Nest's spec does this with a ClientTCP subclass). */
export class ErrorHandlingProxy extends PlumtreeClient {
  override serializeError(err: unknown): RpcException {
    return new RpcException(err as object);
  }
}

/** Where the client options come from, as a config service would give them. */
@Injectable()
export class ClientConfig {
  options(role: string): ClientOptions {
    return { customClass: PlumtreeClient, options: memberOptions(role) } as ClientOptions;
  }
}

@Module({ providers: [ClientConfig], exports: [ClientConfig] })
export class ClientConfigModule {}

@Injectable()
class ClassClientOptions implements ClientsModuleOptionsFactory {
  constructor(private readonly config: ClientConfig) {}
  createClientOptions(): ClientOptions {
    return this.config.options('use-class-client');
  }
}

@Module({
  imports: [
    ClientsModule.registerAsync([
      {
        name: DEFAULT_CLIENT,
        imports: [ClientConfigModule],
        inject: [ClientConfig],
        useFactory: (config: ClientConfig) => config.options('rpc-client'),
      },
      {
        name: USE_FACTORY_CLIENT,
        imports: [ClientConfigModule],
        inject: [ClientConfig],
        useFactory: (config: ClientConfig) => config.options('use-factory-client'),
      },
      {
        name: USE_CLASS_CLIENT,
        imports: [ClientConfigModule],
        useClass: ClassClientOptions,
      },
      {
        name: CUSTOM_PROXY_CLIENT,
        useFactory: () =>
          ({
            customClass: ErrorHandlingProxy,
            options: memberOptions('custom-client'),
          }) as ClientOptions,
      },
    ]),
  ],
  controllers: [RpcAppController],
})
export class RpcAppModule {}
