/**
 * A Nest logger for the suite's apps that keeps error logs instead of printing them: when a case
 * expected 200 and got 500, `call()` puts the error Nest logged beside the status, so the failure
 * says why without every expected 500 filling the output.
 */
import { ConsoleLogger } from '@nestjs/common';

const errors: string[] = [];

/** Errors logged since the last call. */
export function takeLoggedErrors(): string[] {
  return errors.splice(0);
}

/** Keeps `error` logs (message and stack) in memory; drops the rest. */
export class ErrorCollectingLogger extends ConsoleLogger {
  override error(message: unknown, ...rest: unknown[]): void {
    const stack = rest.find((r) => typeof r === 'string' && r.includes('\n    at '));
    errors.push(`${messageOf(message)}${typeof stack === 'string' ? `\n${stack}` : ''}`);
    if (errors.length > 100) errors.shift();
  }
  override log(): void {}
  override warn(): void {}
  override debug(): void {}
  override verbose(): void {}
}

function messageOf(m: unknown): string {
  if (m instanceof Error) return m.stack ?? m.message;
  return typeof m === 'string' ? m : JSON.stringify(m);
}
