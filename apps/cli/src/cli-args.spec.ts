import { describe, expect, it } from '@jest/globals';
import { parseAgentArgs, UsageError } from './cli-args.js';
import { parsePublishRequest, publishErrorStatus } from './http-api.js';

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

  it('reads --handler-delay-ms and --max-queue-bytes', () => {
    const a = parseAgentArgs([
      ...base,
      '--handler-delay-ms',
      '5',
      '--max-queue-bytes',
      '65536',
      '--max-pending-deliveries',
      '32',
    ]);
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
