import { describe, expect, it } from '@jest/globals';
import { addressOf, formatIp, joinHostPort, parseIp, splitHostPort } from './address.js';

describe('addresses', () => {
  it.each([
    ['127.0.0.1', [127, 0, 0, 1]],
    ['10.1.2.3', [10, 1, 2, 3]],
  ])('IPv4 %s round-trips', (text, bytes) => {
    expect(Array.from(parseIp(text)!)).toEqual(bytes);
    expect(formatIp(Uint8Array.from(bytes))).toBe(text);
  });

  it.each(['::1', 'fe80::1:2', '2001:db8::', '2001:db8:0:1:1:1:1:1', '::'])(
    'IPv6 %s round-trips as Go prints it',
    (text) => {
      expect(formatIp(parseIp(text)!)).toBe(text);
    },
  );

  it('prints IPv4-mapped IPv6 as IPv4, like Go', () => {
    expect(formatIp(parseIp('::ffff:10.0.0.1') ?? parseIp('::ffff:a00:1')!)).toBe('10.0.0.1');
  });

  it('rejects malformed literals', () => {
    for (const bad of ['256.0.0.1', '1.2.3', 'host', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9'])
      expect(parseIp(bad)).toBeNull();
  });

  it('joins and splits host:port with IPv6 brackets', () => {
    expect(joinHostPort('::1', 7946)).toBe('[::1]:7946');
    expect(addressOf(Uint8Array.from([10, 0, 0, 1]), 7946)).toBe('10.0.0.1:7946');
    expect(splitHostPort('[::1]:7946')).toEqual({ host: '::1', port: 7946 });
    expect(splitHostPort('10.0.0.1:80')).toEqual({ host: '10.0.0.1', port: 80 });
    expect(splitHostPort('10.0.0.1')).toBeNull();
    expect(splitHostPort('10.0.0.1:70000')).toBeNull();
  });
});
