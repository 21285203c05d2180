/**
 * Issue 13, the CLI agent's HTTP API as an attacker would try it (docs/security.md, "The agent's
 * HTTP API"), against agents spawned from dist/ (built by the project's globalSetup):
 * - with a token: every route but `GET /health` answers 401 with `WWW-Authenticate: Bearer` to a
 *   client without the token or with a wrong one, and 200 with the right one (`POST /fault` of
 *   `--fault-control` included);
 * - a 40 MiB body gets 413 and the connection is closed long before the client could write it
 *   all (declared by `content-length`: refused before a byte is read; chunked: read up to the
 *   32 MiB cap, not beyond);
 * - without a token, on loopback: local non-browser clients are served, a request carrying
 *   `Origin` or a non-loopback `Host` (a web page, DNS rebinding) gets 403;
 * - a non-loopback `--http` or a `--fault-control` without a token exits 2 with the reason;
 * - `plumtree members` with and without the token.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { AgentProcess } from '../../apps/bench/src/swim/agent-process.js';
import { repoRoot } from '../support/build-dist.js';

const MAIN = join(repoRoot, 'apps/cli/dist/main.js');
const TOKEN = randomBytes(24).toString('base64url');
const MIB = 1024 * 1024;

jest.setTimeout(120_000);

/** The routes a token protects: method, path, body. */
const PROTECTED: ReadonlyArray<readonly [string, string, string | undefined]> = [
  ['GET', '/members', undefined],
  ['GET', '/stats', undefined],
  ['GET', '/metrics', undefined],
  ['POST', '/publish', JSON.stringify({ topic: 'h.t', data: 'hello' })],
  ['POST', '/fault', JSON.stringify({ clear: true })],
  // An unknown path says nothing about which routes exist.
  ['GET', '/nope', undefined],
];

function request(
  a: AgentProcess,
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`http://127.0.0.1:${a.options.httpPort.toString()}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
    signal: AbortSignal.timeout(5_000),
  });
}

/** What a raw client saw sending `head` and then up to `bodyBytes` of body. */
interface Upload {
  /** Everything the server sent. */
  readonly response: string;
  /** Body bytes the kernel took from the client before the server closed. */
  readonly accepted: number;
}

/**
 * Writes `head` then `bodyBytes` of body in 64 KiB chunks (chunked encoding when `chunked`),
 * respecting backpressure, until the body is written or the server closes the connection.
 */
function upload(port: number, head: string, bodyBytes: number, chunked: boolean): Promise<Upload> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const framed = chunked
      ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
      : chunk;
    let response = '';
    let accepted = 0;
    let closed = false;
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (response += d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      closed = true;
      resolve({ response, accepted });
    });
    let queued = 0;
    const pump = (): void => {
      while (!closed && queued < bodyBytes) {
        queued += chunk.length;
        const ok = sock.write(framed, (err) => {
          if (!err) accepted += chunk.length;
        });
        if (!ok) return void sock.once('drain', pump);
      }
      if (!closed) sock.end(chunked ? '0\r\n\r\n' : '');
    };
    sock.once('connect', () => {
      sock.write(head);
      pump();
    });
  });
}

describe('the agent HTTP API with a token', () => {
  const agents: AgentProcess[] = [];
  let a: AgentProcess;

  beforeAll(async () => {
    a = await AgentProcess.startReady(repoRoot, {
      kind: 'ours',
      name: 'h0',
      extraArgs: ['--topics', 'h.t', '--fault-control'],
      httpToken: TOKEN,
    });
    agents.push(a);
  });

  afterAll(async () => {
    await Promise.all(agents.map((x) => x.stop('SIGKILL')));
  });

  it('GET /health needs no token', async () => {
    const res = await request(a, 'GET', '/health', undefined);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', members: 1 });
  });

  it('401 with WWW-Authenticate: Bearer on every other route, without or with a wrong token', async () => {
    const wrong = randomBytes(24).toString('base64url');
    for (const [method, path, body] of PROTECTED) {
      for (const headers of [
        {} as Record<string, string>,
        { authorization: `Bearer ${wrong}` },
        { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
        { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
      ]) {
        const res = await request(a, method, path, body, headers);
        expect({ method, path, headers, status: res.status }).toEqual({
          method,
          path,
          headers,
          status: 401,
        });
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="plumtree"/);
        expect(await res.json()).toMatchObject({ type: 'Unauthorized' });
      }
    }
  });

  it('200 on every route with the right token (404 for an unknown path)', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const [method, path, body] of PROTECTED) {
      const res = await request(a, method, path, body, auth);
      expect({ method, path, status: res.status }).toEqual({
        method,
        path,
        status: path === '/nope' ? 404 : 200,
      });
    }
    const members = (await (await request(a, 'GET', '/members', undefined, auth)).json()) as Array<{
      name: string;
    }>;
    expect(members.map((m) => m.name)).toEqual(['h0']);
    await a.waitForEvent((e) => e.event === 'message' && e.topic === 'h.t', 10_000, 'delivery');
  });

  it('a 40 MiB body declared by content-length: 413 before a byte is read, connection closed', async () => {
    for (const auth of [`authorization: Bearer ${TOKEN}\r\n`, '']) {
      const head =
        `POST /publish HTTP/1.1\r\nhost: 127.0.0.1\r\n${auth}` +
        `content-type: application/json\r\ncontent-length: ${(40 * MIB).toString()}\r\n\r\n`;
      const r = await upload(a.options.httpPort, head, 40 * MIB, false);
      expect(r.response).toMatch(auth === '' ? /^HTTP\/1\.1 401 / : /^HTTP\/1\.1 413 /);
      expect(r.response.toLowerCase()).toContain('connection: close');
      // Only what the sockets' buffers hold on loopback went out; the node read none of it.
      expect(r.accepted).toBeLessThan(20 * MIB);
    }
  });

  it('a 40 MiB chunked body: 413 at the 32 MiB cap, connection closed, the rest never read', async () => {
    const head =
      `POST /publish HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TOKEN}\r\n` +
      `content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`;
    const r = await upload(a.options.httpPort, head, 40 * MIB, true);
    expect(r.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.response.toLowerCase()).toContain('connection: close');
    expect(r.accepted).toBeLessThan(40 * MIB);
    // Still serving.
    const res = await request(a, 'GET', '/health', undefined);
    expect(res.status).toBe(200);
  });

  it('plumtree members reads the table with the token, and says why without it', async () => {
    const http = `127.0.0.1:${a.options.httpPort.toString()}`;
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [MAIN, 'members', '--http', http], {
      env: { ...process.env, PLUMTREE_HTTP_TOKEN: TOKEN },
    });
    expect(stdout).toMatch(/^NAME +ADDRESS +STATE/);
    expect(stdout).toMatch(/\nh0 +127\.0\.0\.1:\d+ +alive/);
    const { PLUMTREE_HTTP_TOKEN: _t, ...env } = process.env;
    const refused = await run(process.execPath, [MAIN, 'members', '--http', http], { env }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/HTTP 401: the agent wants its token/);
  });
});

describe('the agent HTTP API without a token', () => {
  let b: AgentProcess;

  beforeAll(async () => {
    b = await AgentProcess.startReady(repoRoot, { kind: 'ours', name: 'h1' });
  });

  afterAll(async () => {
    await b.stop('SIGKILL');
  });

  it('on loopback: serves local clients, warns at start, refuses what a browser sends (403)', async () => {
    expect((await request(b, 'GET', '/members', undefined)).status).toBe(200);
    expect(b.stderrTail).toMatch(/warning: the HTTP API on 127\.0\.0\.1:\d+ is unauthenticated/);
    const post = JSON.stringify({ topic: 'h.t', data: 'x' });
    for (const [method, path, body, headers] of [
      ['POST', '/publish', post, { origin: 'https://evil.example' }],
      ['GET', '/members', undefined, { origin: 'null' }],
    ] as const) {
      const res = await request(b, method, path, body, headers);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
    // fetch never sends a Host of our choosing; node:http does (a DNS-rebound page's request).
    const rebound = await new Promise<number | undefined>((resolve, reject) => {
      httpGet(
        {
          host: '127.0.0.1',
          port: b.options.httpPort,
          path: '/stats',
          headers: { host: `evil.example:${b.options.httpPort.toString()}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      ).on('error', reject);
    });
    expect(rebound).toBe(403);
  });
});

describe('refusals at start', () => {
  const run = (
    args: string[],
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ code: number; stderr: string }> => {
    const { PLUMTREE_HTTP_TOKEN: _t, ...base } = process.env;
    return promisify(execFile)(process.execPath, [MAIN, 'agent', ...args], {
      env: { ...base, ...env },
      timeout: 30_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
  };
  const node = ['--name', 'h2', '--bind', '127.0.0.1:0'];

  it('a non-loopback --http without a token exits 2 with the reason', async () => {
    const r = await run([...node, '--http', '0.0.0.0:0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--http 0\.0\.0\.0: a non-loopback HTTP API needs a token/);
  });

  it('--fault-control without a token exits 2, even on loopback', async () => {
    const r = await run([...node, '--http', '127.0.0.1:0', '--fault-control']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--fault-control needs --http and a token/);
  });

  it('a token too short to be a secret exits 2', async () => {
    const r = await run([...node, '--http', '0.0.0.0:0'], { PLUMTREE_HTTP_TOKEN: 'secret' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PLUMTREE_HTTP_TOKEN: a token is 16\+ characters/);
  });
});
