/**
 * The brokers of the nats and redis runs: the Debian `nats-server` and `redis-server`, started by
 * the bench on a free 127.0.0.1 port for one run and stopped after it. A broker that is not
 * installed is a {@link BrokerMissingError} (the bench prints it in one line and skips the run).
 * Under `setpriv --pdeathsig KILL` (util-linux) when available, so a broker dies with the bench
 * even when the bench is killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import type { BrokerAddress } from './compare-protocol.js';
import { exited, stopProcess, track } from './process-registry.js';

/** The broker kinds the bench starts. */
export type BrokerKind = 'nats' | 'redis';

/** A broker the bench cannot start because it is not installed. */
export class BrokerMissingError extends Error {
  override readonly name = 'BrokerMissingError';
}

/** A running broker of one run. */
export interface Broker {
  readonly kind: BrokerKind;
  readonly pid: number;
  readonly address: BrokerAddress;
  /** Its version line, for the report. */
  readonly version: string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it exited. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;

const BROKERS: Record<
  BrokerKind,
  { bin: string; pkg: string; versionArg: string; args: (port: number) => string[] }
> = {
  nats: {
    bin: 'nats-server',
    pkg: 'nats-server',
    versionArg: '--version',
    args: (port) => ['-a', HOST, '-p', port.toString()],
  },
  redis: {
    bin: 'redis-server',
    pkg: 'redis-server',
    versionArg: '--version',
    // No persistence (no RDB/AOF writes in the figures), warnings only in the log.
    args: (port) => [
      '--bind',
      HOST,
      '--port',
      port.toString(),
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
      '--daemonize',
      'no',
    ],
  },
};

/** PATH, then the sbin directories (Debian installs nats-server in /usr/sbin). */
function searchDirs(): string[] {
  return [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
}

/** The path of executable `name` in `dirs`, or undefined. */
export function findExecutable(
  name: string,
  dirs: readonly string[] = searchDirs(),
): string | undefined {
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A TCP port free on 127.0.0.1 right now (the broker binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const a = s.address();
      s.close(() =>
        typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port')),
      );
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: HOST, port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function runForOutput(path: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const c = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.once('error', () => resolve(''));
    c.once('close', () => resolve(out));
  });
}

/** The executable of a `kind` broker; throws {@link BrokerMissingError} when there is none. */
export function brokerExecutable(
  kind: BrokerKind,
  find: (name: string) => string | undefined = findExecutable,
): string {
  const spec = BROKERS[kind];
  const path = find(spec.bin);
  if (path === undefined) {
    throw new BrokerMissingError(
      `${spec.bin} is not installed (Debian: apt-get install ${spec.pkg}); skipping the ${kind} run`,
    );
  }
  return path;
}

/** `nats-server v2.9.10` / `redis-server 7.0.15` from the broker's `--version` output. */
export function versionLine(kind: BrokerKind, output: string): string {
  const m = kind === 'nats' ? /v\d+\.\d+\.\d+\S*/.exec(output) : /v=(\S+)/.exec(output);
  const v = m === null ? undefined : kind === 'nats' ? m[0] : m[1];
  return `${BROKERS[kind].bin} ${v ?? '(unknown version)'}`;
}

/** Starts a `kind` broker on a free port; resolves once it accepts connections. */
export async function startBroker(kind: BrokerKind): Promise<Broker> {
  const spec = BROKERS[kind];
  const path = brokerExecutable(kind);
  const version = versionLine(kind, await runForOutput(path, [spec.versionArg]));
  const port = await freePort();
  const setpriv = findExecutable('setpriv');
  const [cmd, args] =
    setpriv !== undefined
      ? [setpriv, ['--pdeathsig', 'KILL', path, ...spec.args(port)]]
      : [path, spec.args(port)];
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const stop = (): Promise<void> => stopProcess(child, () => child.kill('SIGTERM'), 5_000);
  const end = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) {
      await exited(child);
      throw new Error(
        `${spec.bin} exited at start${spawnError !== undefined ? ` (${spawnError.message})` : ''}: ${output.trim()}`,
      );
    }
    if (await canConnect(port)) break;
    if (Date.now() > end) {
      await stop();
      throw new Error(
        `${spec.bin} did not accept connections on port ${port.toString()} within ${READY_TIMEOUT_MS.toString()} ms: ${output.trim()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { kind, pid: pidOf(child), address: { host: HOST, port }, version, stop };
}

function pidOf(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error('spawned process has no pid');
  return child.pid;
}
