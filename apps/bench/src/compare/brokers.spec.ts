import { describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokerExecutable, BrokerMissingError, findExecutable, versionLine } from './brokers.js';

describe('brokers', () => {
  it('finds an executable in the directories given, and only an executable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-compare-'));
    try {
      writeFileSync(join(dir, 'nats-server'), '#!/bin/sh\n');
      writeFileSync(join(dir, 'redis-server'), 'not executable');
      chmodSync(join(dir, 'nats-server'), 0o755);
      expect(findExecutable('nats-server', ['', '/nonexistent', dir])).toBe(
        join(dir, 'nats-server'),
      );
      expect(findExecutable('redis-server', [dir])).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('names the Debian package in one line when a broker is not installed', () => {
    expect(() => brokerExecutable('redis', () => undefined)).toThrow(BrokerMissingError);
    expect(() => brokerExecutable('nats', () => undefined)).toThrow(
      'nats-server is not installed (Debian: apt-get install nats-server); skipping the nats run',
    );
    expect(brokerExecutable('nats', (n) => `/usr/sbin/${n}`)).toBe('/usr/sbin/nats-server');
  });

  it('reads the version of each broker', () => {
    expect(versionLine('nats', 'nats-server: v2.9.10\n')).toBe('nats-server v2.9.10');
    expect(
      versionLine('redis', 'Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64'),
    ).toBe('redis-server 7.0.15');
    expect(versionLine('redis', '')).toBe('redis-server (unknown version)');
  });
});
