/**
 * The controller of Nest's TCP transport spec (`integration/microservices/src/app.controller.ts`),
 * for this transport: object patterns, a default client plus the clients `RpcAppModule` registers
 * with `useFactory`, `useClass` and a custom class whose `serializeError` wraps errors in an
 * `RpcException`.
 */
import { Body, Controller, HttpCode, Inject, Post, Query } from '@nestjs/common';
import {
  EventPattern,
  MessagePattern,
  RpcException,
  type ClientProxy,
} from '@nestjs/microservices';
import { catchError, from, lastValueFrom, of, scan, throwError, type Observable } from 'rxjs';

/** Injection tokens of the clients (see rpc-app.module.ts). */
export const DEFAULT_CLIENT = 'DEFAULT_CLIENT';
export const USE_FACTORY_CLIENT = 'USE_FACTORY_CLIENT';
export const USE_CLASS_CLIENT = 'USE_CLASS_CLIENT';
export const CUSTOM_PROXY_CLIENT = 'CUSTOM_PROXY_CLIENT';

const total = (xs: number[] | undefined): number => (xs ?? []).reduce((a, b) => a + b, 0);

@Controller()
export class RpcAppController {
  /** Set by the `notification` event handler. */
  static notified = false;

  constructor(
    @Inject(DEFAULT_CLIENT) private readonly client: ClientProxy,
    @Inject(USE_FACTORY_CLIENT) private readonly factoryClient: ClientProxy,
    @Inject(USE_CLASS_CLIENT) private readonly classClient: ClientProxy,
    @Inject(CUSTOM_PROXY_CLIENT) private readonly customClient: ClientProxy,
  ) {}

  @Post()
  @HttpCode(200)
  call(@Query('command') cmd: string, @Body() data: number[]): Observable<number> {
    return this.client.send<number>({ cmd }, data);
  }

  @Post('useFactory')
  @HttpCode(200)
  callThroughFactoryClient(
    @Query('command') cmd: string,
    @Body() data: number[],
  ): Observable<number> {
    return this.factoryClient.send<number>({ cmd }, data);
  }

  @Post('useClass')
  @HttpCode(200)
  callThroughClassClient(
    @Query('command') cmd: string,
    @Body() data: number[],
  ): Observable<number> {
    return this.classClient.send<number>({ cmd }, data);
  }

  @Post('stream')
  @HttpCode(200)
  stream(@Body() data: number[]): Observable<number> {
    return this.client.send<number>({ cmd: 'streaming' }, data).pipe(scan((a, b) => a + b));
  }

  @Post('concurrent')
  @HttpCode(200)
  async concurrent(@Body() batches: number[][]): Promise<boolean> {
    const checks = await Promise.all(
      batches.map(
        async (xs) =>
          (await lastValueFrom(this.client.send<number>({ cmd: 'sum' }, xs))) === total(xs),
      ),
    );
    return checks.every(Boolean);
  }

  /** Whether the client's error is an RpcException: only the custom class makes one. */
  @Post('error')
  @HttpCode(200)
  errorType(@Query('client') which: 'custom' | 'standard' = 'standard'): Observable<boolean> {
    const client = which === 'custom' ? this.customClient : this.client;
    return client
      .send({ cmd: 'err' }, {})
      .pipe(catchError((err: unknown) => of(err instanceof RpcException)));
  }

  /** What the client receives from a handler that throws an RpcException with an object. */
  @Post('exception')
  @HttpCode(200)
  exception(@Body() data: unknown): Observable<unknown> {
    return this.client.send({ cmd: 'exception' }, data).pipe(catchError((err: unknown) => of(err)));
  }

  @Post('notify')
  notify(): Observable<unknown> {
    return this.client.emit('notification', true);
  }

  @MessagePattern({ cmd: 'sum' })
  sum(data: number[]): number {
    return total(data);
  }

  @MessagePattern({ cmd: 'asyncSum' })
  async asyncSum(data: number[]): Promise<number> {
    await Promise.resolve();
    return total(data);
  }

  @MessagePattern({ cmd: 'streamSum' })
  streamSum(data: number[]): Observable<number> {
    return of(total(data));
  }

  @MessagePattern({ cmd: 'streaming' })
  streaming(data: number[]): Observable<number> {
    return from(data);
  }

  @MessagePattern({ cmd: 'err' })
  failPlainly(): Observable<never> {
    return throwError(() => new Error('err'));
  }

  @MessagePattern({ cmd: 'exception' })
  failWithObject(data: unknown): never {
    throw new RpcException({ data });
  }

  @EventPattern<string>('notification')
  onNotification(data: boolean): void {
    RpcAppController.notified = data;
  }
}
