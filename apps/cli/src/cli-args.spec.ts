import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { startWarnings } from './agent.command.js';
import { parseAgentArgs, parseMembersArgs, UsageError } from './cli-args.js';
import {
  bearerMatches,
  isLoopbackHost,
  isLoopbackHostHeader,
  parsePublishRequest,
  publishErrorStatus,
} from './http-api.js';

const base = ['--name', 'a', '--bind', '127.0.0.1:7946'];

describe('parseAgentArgs: topics and the hidden test flags', () => {
  it('splits --topics on commas, keeps patterns, drops repeats; defaults stay off', () => {
    const a = parseAgentArgs([
      ...base,
      '--topics',
      'orders.eu,orders.*',
      '--topics',
      'm.#,orders.eu',
    ]);
    expect(a.topics).toEqual(['orders.eu', 'orders.*', 'm.#']);
    expect(a.handlerDelayMs).toBe(0);
    expect(a.maxQueueBytes).toBeUndefined();
    expect(parseAgentArgs(base).topics).toEqual([]);
  });

  it('reads the hidden --handler-delay-ms, --max-queue-bytes, --max-pending-deliveries and --message-cache-ttl-ms', () => {
    const a = parseAgentArgs([
      ...base,
      '--handler-delay-ms',
      '5',
      '--max-queue-bytes',
      '65536',
      '--max-pending-deliveries',
      '32',
      '--message-cache-ttl-ms',
      '30000',
    ]);
    expect(a.messageCacheTtlMs).toBe(30_000);
    expect(parseAgentArgs(base).messageCacheTtlMs).toBeUndefined();
    expect(a.handlerDelayMs).toBe(5);
    expect(a.maxQueueBytes).toBe(65536);
    expect(a.maxPendingDeliveries).toBe(32);
  });

  it('reads --join-timeout-ms (0: one attempt); absent leaves the node default', () => {
    expect(
      parseAgentArgs([...base, '--join', '127.0.0.1:1', '--join-timeout-ms', '0']).joinTimeoutMs,
    ).toBe(0);
    expect(parseAgentArgs(base).joinTimeoutMs).toBeUndefined();
    expect(() => parseAgentArgs([...base, '--join-timeout-ms', 'soon'])).toThrow(UsageError);
  });

  it('names every bad topic and number in one UsageError', () => {
    let err: unknown;
    try {
      parseAgentArgs([
        ...base,
        '--topics',
        'ok,a..b,',
        '--handler-delay-ms',
        '1.5',
        '--max-queue-bytes',
        '12',
        '--max-pending-deliveries',
        '0',
        '--message-cache-ttl-ms',
        '999',
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/--topics: "a\.\.b"/);
    expect(msg).toMatch(/--handler-delay-ms: expected an integer >= 0/);
    expect(msg).toMatch(/--max-queue-bytes: expected an integer >= 1024/);
    expect(msg).toMatch(/--max-pending-deliveries: expected an integer >= 1/);
    expect(msg).toMatch(/--message-cache-ttl-ms: expected an integer >= 1000/);
  });
});

describe('POST /publish input checks', () => {
  it('accepts {topic, data, headers?}', () => {
    expect(parsePublishRequest({ topic: 't', data: 'x' })).toEqual({ topic: 't', data: 'x' });
    expect(parsePublishRequest({ topic: 't', data: { a: 1 }, headers: { k: 'v' } })).toEqual({
      topic: 't',
      data: { a: 1 },
      headers: { k: 'v' },
    });
  });

  it.each([
    [[1], /JSON object/],
    [null, /JSON object/],
    [{ data: 'x' }, /topic must be a non-empty string/],
    [{ topic: '', data: 'x' }, /topic must be a non-empty string/],
    [{ topic: 't' }, /data is required/],
    [{ topic: 't', data: 'x', headers: [] }, /headers must be an object/],
    [{ topic: 't', data: 'x', headers: { k: 1 } }, /header k must be a string/],
    [{ topic: 't', data: 'x', extra: 1 }, /unknown field "extra"/],
  ])('refuses %j with a 400', (body, message) => {
    let err: unknown;
    try {
      parsePublishRequest(body);
    } catch (e) {
      err = e;
    }
    expect((err as { status: number }).status).toBe(400);
    expect((err as Error).message).toMatch(message);
  });

  it('maps the node typed errors to status codes', () => {
    const named = (name: string): Error => Object.assign(new Error('x'), { name });
    expect(publishErrorStatus(named('InvalidTopicError'))).toBe(400);
    expect(publishErrorStatus(named('InvalidHeadersError'))).toBe(400);
    expect(publishErrorStatus(named('PayloadTooLargeError'))).toBe(413);
    expect(publishErrorStatus(named('NoSubscribersError'))).toBe(503);
    expect(publishErrorStatus(named('NodeClosedError'))).toBe(503);
    expect(publishErrorStatus(new Error('other'))).toBe(500);
  });
});

describe('the HTTP API token (docs/security.md)', () => {
  const token = 'abcdefghijklmnop0123';
  const noEnv = {};

  it('reads --http-token, else --http-token-file, else PLUMTREE_HTTP_TOKEN; none is null', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plumtree-token-'));
    const file = join(dir, 'token');
    writeFileSync(file, `${token}-file\n`);
    try {
      const http = ['--http', '0.0.0.0:8080'];
      expect(parseAgentArgs([...base, ...http, '--http-token', token], noEnv).httpToken).toBe(
        token,
      );
      expect(parseAgentArgs([...base, ...http, '--http-token-file', file], noEnv).httpToken).toBe(
        `${token}-file`,
      );
      expect(
        parseAgentArgs([...base, ...http], { PLUMTREE_HTTP_TOKEN: `${token}-env` }).httpToken,
      ).toBe(`${token}-env`);
      expect(
        parseAgentArgs([...base, ...http, '--http-token', token], {
          PLUMTREE_HTTP_TOKEN: `${token}-env`,
        }).httpToken,
      ).toBe(token);
      expect(parseAgentArgs(base, noEnv).httpToken).toBeNull();
      expect(parseMembersArgs(['--http', '127.0.0.1:1', '--http-token', token], noEnv)).toEqual({
        http: { host: '127.0.0.1', port: 1 },
        token,
      });
      expect(parseMembersArgs(['--http', '127.0.0.1:1'], noEnv).token).toBeNull();
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('refuses short or odd tokens, both token flags at once, and an unreadable file', () => {
    const http = ['--http', '127.0.0.1:8080'];
    expect(() => parseAgentArgs([...base, ...http, '--http-token', 'short'], noEnv)).toThrow(
      /16\+ characters/,
    );
    expect(() =>
      parseAgentArgs([...base, ...http, '--http-token', 'has space in it xxxxxxx'], noEnv),
    ).toThrow(UsageError);
    expect(() =>
      parseAgentArgs(
        [...base, ...http, '--http-token', token, '--http-token-file', '/nonexistent'],
        noEnv,
      ),
    ).toThrow(/give one/);
    expect(() =>
      parseAgentArgs([...base, ...http, '--http-token-file', '/nonexistent/token'], noEnv),
    ).toThrow(/--http-token-file: ENOENT/);
  });

  it('refuses a non-loopback --http without a token, allows loopback without one', () => {
    for (const host of ['0.0.0.0', '10.0.0.1', '[::]', 'example.org']) {
      expect(() => parseAgentArgs([...base, '--http', `${host}:8080`], noEnv)).toThrow(
        /a non-loopback HTTP API needs a token/,
      );
    }
    for (const host of ['127.0.0.1', '127.1.2.3', '[::1]', 'localhost']) {
      expect(parseAgentArgs([...base, '--http', `${host}:8080`], noEnv).http).not.toBeNull();
    }
  });

  it('--fault-control needs --http and a token, even on loopback', () => {
    expect(() =>
      parseAgentArgs([...base, '--http', '127.0.0.1:8080', '--fault-control'], noEnv),
    ).toThrow(/--fault-control needs --http and a token/);
    expect(() =>
      parseAgentArgs([...base, '--fault-control', '--http-token', token], noEnv),
    ).toThrow(/--fault-control needs/);
    expect(
      parseAgentArgs([...base, '--http', '127.0.0.1:8080', '--fault-control'], {
        PLUMTREE_HTTP_TOKEN: token,
      }).faultControl,
    ).toBe(true);
  });

  it('bearerMatches compares the token, not a prefix or a case variant', () => {
    const hash = createHash('sha256').update(token).digest();
    expect(bearerMatches(`Bearer ${token}`, hash)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, hash)).toBe(true);
    expect(bearerMatches(undefined, hash)).toBe(false);
    expect(bearerMatches(token, hash)).toBe(false);
    expect(bearerMatches(`Bearer ${token.slice(0, -1)}`, hash)).toBe(false);
    expect(bearerMatches(`Bearer ${token}x`, hash)).toBe(false);
    expect(bearerMatches(`Bearer ${token.toUpperCase()}`, hash)).toBe(false);
    expect(bearerMatches(`Basic ${token}`, hash)).toBe(false);
  });

  it('isLoopbackHost and isLoopbackHostHeader (DNS rebinding: the Host a browser sends)', () => {
    for (const h of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1', 'LOCALHOST']) {
      expect(isLoopbackHost(h)).toBe(true);
    }
    for (const h of ['0.0.0.0', '::', '10.1.1.1', 'localhost.evil.com', '1127.0.0.1']) {
      expect(isLoopbackHost(h)).toBe(false);
    }
    expect(isLoopbackHostHeader('127.0.0.1:8080')).toBe(true);
    expect(isLoopbackHostHeader('[::1]:8080')).toBe(true);
    expect(isLoopbackHostHeader('localhost')).toBe(true);
    expect(isLoopbackHostHeader('evil.example:8080')).toBe(false);
    expect(isLoopbackHostHeader(undefined)).toBe(false);
  });

  it('warns at start about a keyless non-loopback bind and a tokenless API', () => {
    const open = parseAgentArgs(['--name', 'a', '--bind', '0.0.0.0:7946'], noEnv);
    expect(startWarnings(open, undefined, false)).toEqual([
      expect.stringMatching(/^no --key: anyone/),
    ]);
    // The node warns itself (PLUMTREE_NO_KEYS) when it binds its sockets: said once.
    expect(startWarnings(open, undefined, true)).toEqual([]);
    const local = parseAgentArgs([...base, '--http', '127.0.0.1:8080'], noEnv);
    expect(startWarnings(local, '127.0.0.1:8080', true)).toEqual([
      expect.stringMatching(/HTTP API on 127.0.0.1:8080 is unauthenticated/),
    ]);
    const closed = parseAgentArgs(
      [
        '--name',
        'a',
        '--bind',
        '0.0.0.0:7946',
        '--key',
        Buffer.alloc(16, 1).toString('base64'),
        '--http',
        '0.0.0.0:8080',
        '--http-token',
        token,
      ],
      noEnv,
    );
    expect(startWarnings(closed, '0.0.0.0:8080', false)).toEqual([]);
  });
});
