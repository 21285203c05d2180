/**
 * HTTP calls of the conformance suite: Nest's specs drive their apps with supertest; these call
 * the app on the port `app.listen(0)` chose, with the global `fetch`.
 */
import type { INestApplication } from '@nestjs/common';
import { takeLoggedErrors } from './error-log.js';

/** Status and raw body text of one response; on a 5xx, what the app logged as errors. */
export interface HttpResult {
  readonly status: number;
  readonly text: string;
  readonly serverErrors?: readonly string[];
}

/** `POST path` with a JSON body (or none), or `GET` when `body` is omitted and `method` says so. */
export async function call(
  app: INestApplication,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<HttpResult> {
  const url = new URL(path, await app.getUrl());
  url.hostname = '127.0.0.1';
  takeLoggedErrors();
  const res = await fetch(url, {
    method,
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  const text = await res.text();
  const logged = takeLoggedErrors();
  return res.status >= 500 && logged.length > 0
    ? { status: res.status, text, serverErrors: logged }
    : { status: res.status, text };
}

/** Ten arrays of ten numbers (1..100), the body of Nest's "concurrent" case. */
export function tenTens(): number[][] {
  return Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, k) => i * 10 + k + 1));
}
