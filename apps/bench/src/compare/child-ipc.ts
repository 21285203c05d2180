/**
 * The child side of `bench:compare`'s IPC: the config from argv, messages to and from the
 * parent, and the rule that a child never outlives its parent (it exits when the IPC channel
 * closes, so Ctrl-C or a crash of the parent leaves no subscriber behind).
 */
import type { ChildConfig, FromChild, ToChild } from './compare-protocol.js';

/** Sends `m` to the parent (dropped when the channel is closed: the child is exiting then). */
export function toParent(m: FromChild): void {
  if (process.connected) process.send?.(m, undefined, undefined, () => undefined);
}

/** What a child does on each message type of the parent (types it does not expect are ignored). */
export type ParentHandlers = { readonly [K in ToChild['type']]?: () => void };

/**
 * Serves the parent's messages with `handlers`; on `close`, runs `close` (stop reporting, close
 * the transport: what a Nest app does on shutdown) and exits.
 */
export function serveParent(handlers: ParentHandlers, close: () => unknown): void {
  process.on('message', (raw: unknown) => {
    const type = (raw as ToChild).type;
    if (type === 'close') {
      void Promise.resolve()
        .then(close)
        .finally(() => process.exit(0));
      return;
    }
    handlers[type]?.();
  });
}

/** Runs `main` with the config of argv[2]; an error is reported to the parent, then exit 1. */
export function runChild(main: (cfg: ChildConfig) => Promise<void>): void {
  process.on('disconnect', () => process.exit(1));
  const cfg = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
  main(cfg).catch((e: unknown) => {
    toParent({ type: 'error', message: `${cfg.name}: ${errorText(e)}` });
    process.exit(1);
  });
}

/** `name: message` of an error, or its string form. */
export function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Every `intervalMs`, sends `snapshot()` to the parent when `key()` changed since the last one. */
export function reportWhileChanging(
  intervalMs: number,
  key: () => string,
  snapshot: () => FromChild,
): NodeJS.Timeout {
  let last = '';
  return setInterval(() => {
    const k = key();
    if (k === last) return;
    last = k;
    toParent(snapshot());
  }, intervalMs);
}
