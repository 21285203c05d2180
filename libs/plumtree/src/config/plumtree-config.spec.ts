import { describe, expect, it } from '@jest/globals';
import { PlumtreeConfig, PlumtreeConfigError, resolvePlumtreeConfig } from './plumtree-config.js';

function problemsOf(input: Record<string, unknown>): string[] {
  try {
    resolvePlumtreeConfig(input as never);
  } catch (e) {
    expect(e).toBeInstanceOf(PlumtreeConfigError);
    return (e as PlumtreeConfigError).problems.map((p) => p.field).sort();
  }
  throw new Error('expected a PlumtreeConfigError');
}

describe('PlumtreeConfig', () => {
  it('defaults are the reference crate defaults', () => {
    const c = PlumtreeConfig.default();
    expect(c).toMatchObject({
      eagerFanout: 3,
      lazyFanout: 6,
      ihaveIntervalMs: 100,
      messageCacheTtlMs: 60_000,
      messageCacheMaxSize: 10_000,
      optimizationThreshold: 3,
      graftTimeoutMs: 500,
      maxMessageSize: 64 * 1024,
      graftRateLimitPerSecond: 10,
      graftRateLimitBurst: 20,
      graftMaxRetries: 5,
    });
  });

  it('presets carry the reference values', () => {
    expect(PlumtreeConfig.lan()).toMatchObject({
      ihaveIntervalMs: 50,
      graftTimeoutMs: 200,
      optimizationThreshold: 2,
    });
    expect(PlumtreeConfig.wan()).toMatchObject({
      eagerFanout: 4,
      lazyFanout: 8,
      graftTimeoutMs: 1_000,
    });
    expect(PlumtreeConfig.largeCluster()).toMatchObject({
      eagerFanout: 5,
      lazyFanout: 10,
      messageCacheMaxSize: 50_000,
    });
    expect(resolvePlumtreeConfig({ preset: 'wan' }).graftMaxRetries).toBe(7);
  });

  it('applies overrides on top of a preset', () => {
    const c = resolvePlumtreeConfig({ preset: 'lan', eagerFanout: 5 });
    expect(c.eagerFanout).toBe(5);
    expect(c.ihaveIntervalMs).toBe(50);
  });

  it('one error names every bad field: negative fanout, zero interval, unknown preset', () => {
    expect(problemsOf({ preset: 'fast', eagerFanout: -1, ihaveIntervalMs: 0 })).toEqual([
      'eagerFanout',
      'ihaveIntervalMs',
      'preset',
    ]);
  });

  it('reports wrong types, unknown options and inconsistent pairs', () => {
    expect(
      problemsOf({
        graftTimeoutMs: '500',
        eagerFantout: 3,
        seenSoftCap: 10,
        seenHardCap: 5,
        lazyFanout: 1.5,
      }),
    ).toEqual(['eagerFantout', 'graftTimeoutMs', 'lazyFanout', 'seenHardCap']);
    const err = (() => {
      try {
        resolvePlumtreeConfig({ eagerFanout: 0, maxMessageSize: -3 });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/2 problems/);
    expect(err?.message).toMatch(/eagerFanout/);
    expect(err?.message).toMatch(/maxMessageSize/);
  });
});
