import { describe, expect, it } from '@jest/globals';
import { canonicalAddress, parseSeedAddress, validateSeedAddresses } from './seed-address.js';

describe('parseSeedAddress', () => {
  it.each([
    ['10.0.0.2:7946', { host: '10.0.0.2', port: 7946, ip: '10.0.0.2:7946' }],
    ['[::1]:7946', { host: '::1', port: 7946, ip: '[::1]:7946' }],
    ['[fd00:0:0::2]:1', { host: 'fd00:0:0::2', port: 1, ip: '[fd00::2]:1' }],
    ['seed-1.example.com:7946', { host: 'seed-1.example.com', port: 7946, ip: null }],
    ['localhost:65535', { host: 'localhost', port: 65535, ip: null }],
  ])('accepts %s', (seed, expected) => {
    expect(parseSeedAddress(seed)).toEqual({ seed, ...expected });
  });

  it.each([
    ['10.0.0.2', /host:port/],
    ['::1:7946', /host:port/],
    ['10.0.0.2:0', /port must be/],
    ['10.0.0.2:65536', /host:port/],
    ['300.1.1.1:7946', /neither an IP/],
    ['bad host:7946', /neither an IP/],
    ['-lead.example:7946', /neither an IP/],
    ['', /host:port/],
  ])('rejects %j', (seed, problem) => {
    const got = parseSeedAddress(seed);
    expect(typeof got).toBe('string');
    expect(got).toMatch(problem);
  });
});

describe('validateSeedAddresses', () => {
  it('lists one problem per bad seed and per duplicate, however spelled', () => {
    expect(validateSeedAddresses(['10.0.0.1:7946', 'seed.local:7946'])).toEqual([]);
    const problems = validateSeedAddresses(['x', '[fd00::2]:7946', '[fd00:0::2]:7946', 'y']);
    expect(problems).toHaveLength(3);
    expect(problems[1]).toMatch(/listed twice/);
  });
});

describe('canonicalAddress', () => {
  it('compresses IPv6 and leaves other text alone', () => {
    expect(canonicalAddress('[fd00:0:0:0:0:0:0:2]:7946')).toBe('[fd00::2]:7946');
    expect(canonicalAddress('10.0.0.1:7946')).toBe('10.0.0.1:7946');
    expect(canonicalAddress('seed.local:7946')).toBe('seed.local:7946');
  });
});
