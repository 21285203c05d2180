/**
 * The controller of Nest's NATS transport spec (`integration/microservices/src/nats/`), for this
 * transport: string patterns with wildcards (`math.*`), one HTTP route per case, and a client made
 * with `ClientProxyFactory.create` when the controller is instantiated (Nest's makes a NATS client
 * for its broker; this one a `PlumtreeClient` that joins the seed).
 */
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Query,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  ClientProxyFactory,
  Ctx,
  EventPattern,
  MessagePattern,
  Payload,
  RpcException,
  type ClientProxy,
} from '@nestjs/microservices';
import { catchError, from, lastValueFrom, of, scan, throwError, type Observable } from 'rxjs';
import { PlumtreeClient, PlumtreeRecordBuilder, type PlumtreeContext } from '@plumtree/nestjs';
import { memberOptions } from '../support/conformance-env.js';

const total = (xs: number[] | undefined): number => (xs ?? []).reduce((a, b) => a + b, 0);

@Controller()
export class StringPatternsController implements OnApplicationShutdown {
  /** Set by the two `notification` event handlers. */
  static notified = { first: false, second: false };

  readonly client: ClientProxy = ClientProxyFactory.create({
    customClass: PlumtreeClient,
    options: memberOptions('nats-client'),
  });

  @Post()
  @HttpCode(200)
  async call(
    @Query('command') command: string,
    @Body() data: number[],
  ): Promise<Observable<number>> {
    await this.client.connect();
    return this.client.send<number>(command, data);
  }

  @Post('stream')
  @HttpCode(200)
  stream(@Body() data: number[]): Observable<number> {
    return this.client.send<number>('streaming.sum', data).pipe(scan((a, b) => a + b));
  }

  @Post('concurrent')
  @HttpCode(200)
  async concurrent(@Body() batches: number[][]): Promise<boolean> {
    const results = await Promise.all(
      batches.map(
        async (xs) => (await lastValueFrom(this.client.send<number>('math.sum', xs))) === total(xs),
      ),
    );
    return results.every(Boolean);
  }

  @Get('exception')
  exception(): Observable<unknown> {
    return this.client.send('exception', {}).pipe(catchError((err: unknown) => of(err)));
  }

  @Post('notify')
  notify(): Observable<unknown> {
    return this.client.emit('notification', true);
  }

  @Post('record-builder-duplex')
  @HttpCode(200)
  recordBuilder(@Body() data: Record<string, unknown>): Observable<unknown> {
    const record = new PlumtreeRecordBuilder(data).setHeaders({ 'x-version': '1.0.0' }).build();
    return this.client.send('record-builder-duplex', record);
  }

  @MessagePattern('math.*')
  sum(@Payload() data: number[], @Ctx() _ctx: PlumtreeContext): number {
    return total(data);
  }

  @MessagePattern('async.*')
  async asyncSum(data: number[]): Promise<number> {
    await Promise.resolve();
    return total(data);
  }

  @MessagePattern('stream.*')
  streamSum(data: number[]): Observable<number> {
    return of(total(data));
  }

  @MessagePattern('streaming.*')
  streaming(data: number[]): Observable<number> {
    return from(data);
  }

  @MessagePattern('exception')
  fail(): Observable<never> {
    return throwError(() => new RpcException('test'));
  }

  @MessagePattern('record-builder-duplex')
  echoWithHeaders(@Payload() data: unknown, @Ctx() ctx: PlumtreeContext): unknown {
    return { data, headers: { 'x-version': ctx.getHeaders()['x-version'] } };
  }

  @EventPattern<string>('notification')
  first(@Payload() data: boolean): void {
    StringPatternsController.notified.first = data;
  }

  @EventPattern<string>('notification')
  second(@Payload() data: boolean): void {
    StringPatternsController.notified.second = data;
  }

  /** Nest leaves a factory-made client open; this suite closes it so no node outlives the app. */
  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
