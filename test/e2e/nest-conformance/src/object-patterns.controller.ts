/**
 * The controller of Nest's Redis transport spec (`integration/microservices/src/redis/`), for
 * this transport: object patterns (`{ cmd: 'sum' }`), one HTTP route per case, and the client
 * injected from `ClientsModule`. The suite runs it with a client that shares the app's server node
 * (`shareServer`, as the docs recommend for hybrid apps), so every request is answered by the
 * app's own handlers, in-process.
 */
import { Body, Controller, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { EventPattern, MessagePattern, type ClientProxy } from '@nestjs/microservices';
import { from, lastValueFrom, of, scan, type Observable } from 'rxjs';

/** Injection token of the client. */
export const OBJECT_PATTERNS_CLIENT = Symbol('OBJECT_PATTERNS_CLIENT');

const total = (xs: number[] | undefined): number => (xs ?? []).reduce((a, b) => a + b, 0);

@Controller()
export class ObjectPatternsController {
  /** Set by the `notification` event handler. */
  static notified = false;

  constructor(@Inject(OBJECT_PATTERNS_CLIENT) private readonly client: ClientProxy) {}

  @Post()
  @HttpCode(200)
  call(@Query('command') cmd: string, @Body() data: number[]): Observable<number> {
    return this.client.send<number>({ cmd }, data);
  }

  @Post('stream')
  @HttpCode(200)
  stream(@Body() data: number[]): Observable<number> {
    return this.client.send<number>({ cmd: 'streaming' }, data).pipe(scan((a, b) => a + b));
  }

  @Post('concurrent')
  @HttpCode(200)
  async concurrent(@Body() batches: number[][]): Promise<boolean> {
    const sums = await Promise.all(
      batches.map((xs) => lastValueFrom(this.client.send<number>({ cmd: 'sum' }, xs))),
    );
    return sums.every((s, i) => s === total(batches[i]));
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

  @EventPattern<string>('notification')
  onNotification(data: boolean): void {
    ObjectPatternsController.notified = data;
  }
}
