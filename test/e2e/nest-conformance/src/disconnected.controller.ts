/**
 * The controller of Nest's disconnected-client spec (`integration/microservices/src/
 * disconnected.controller.ts`), for this transport: a client built from the request body whose
 * seed does not answer; a connection refusal becomes 408, anything else 500.
 */
import {
  Body,
  Controller,
  InternalServerErrorException,
  Post,
  RequestTimeoutException,
} from '@nestjs/common';
import { ClientProxyFactory } from '@nestjs/microservices';
import { catchError, throwError, type Observable } from 'rxjs';
import { PlumtreeClient, type PlumtreeClientOptions } from '@plumtree/nestjs';

@Controller()
export class DisconnectedController {
  /** Errors the clients failed with, for the test to look at. */
  static errors: unknown[] = [];

  @Post()
  call(@Body() options: PlumtreeClientOptions): Observable<number> {
    const client = ClientProxyFactory.create({ customClass: PlumtreeClient, options });
    return client.send<number, number[]>({ cmd: 'none' }, [1, 2, 3]).pipe(
      catchError((error: unknown) => {
        DisconnectedController.errors.push(error);
        const code = (error as { code?: unknown } | null)?.code ?? 'CONN_ERR';
        return throwError(() =>
          code === 'ECONNREFUSED' || code === 'CONN_ERR'
            ? new RequestTimeoutException('ECONNREFUSED')
            : new InternalServerErrorException(),
        );
      }),
    );
  }
}
