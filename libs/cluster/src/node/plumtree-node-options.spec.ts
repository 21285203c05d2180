import { describe, expect, it } from '@jest/globals';
import { resolvePlumtreeConfig } from '@plumtree/plumtree';
import { resolveNodeOptions, resolveSwimConfig } from '@plumtree/swim';
import { resolvePlumtreeNodeOptions, withoutSeeds } from './plumtree-node-options.js';

describe('resolvePlumtreeNodeOptions', () => {
  const resolved = resolvePlumtreeNodeOptions({
    name: 'a',
    bindPort: 0,
    seeds: ['127.0.0.1:7946'],
    label: 'prod',
    swim: { preset: 'local', probeIntervalMs: 500 },
    plumtree: { eagerFanout: 4 },
  });

  it('returns options it resolved as they are, and every layer below does the same', () => {
    expect(resolvePlumtreeNodeOptions(resolved)).toBe(resolved);
    expect(resolveNodeOptions(resolved.swim)).toBe(resolved.swim);
    expect(resolveSwimConfig(resolved.swim.config)).toBe(resolved.swim.config);
    expect(resolvePlumtreeConfig(resolved.plumtree)).toBe(resolved.plumtree);
  });

  it('resolves an object of the same shape again (only what a resolver returned passes)', () => {
    const copy = { ...resolved.swim.config };
    expect(resolveSwimConfig(copy)).not.toBe(copy);
    expect(resolveSwimConfig(copy)).toEqual(resolved.swim.config);
  });

  it('freezes what it returns, down to the configurations', () => {
    for (const o of [resolved, resolved.swim, resolved.swim.config, resolved.plumtree]) {
      expect(Object.isFrozen(o)).toBe(true);
    }
  });

  it('gives SWIM the node-level fields and the SWIM overrides over the preset', () => {
    expect(resolved.swim).toMatchObject({ name: 'a', bindAddr: '0.0.0.0', bindPort: 0 });
    expect(resolved.swim.label).toBe('prod');
    expect(resolved.swim.config).toMatchObject({
      name: 'a',
      bindPort: 0,
      probeIntervalMs: 500,
      probeTimeoutMs: 200, // the local preset's
    });
    expect(resolved.plumtree.eagerFanout).toBe(4);
  });

  it('withoutSeeds drops the seeds and keeps the rest resolved', () => {
    const deferred = withoutSeeds(resolved);
    expect(deferred.seeds).toEqual([]);
    expect(resolvePlumtreeNodeOptions(deferred)).toBe(deferred);
    expect(deferred.swim).toBe(resolved.swim);
    expect(resolved.seeds).toEqual(['127.0.0.1:7946']);
  });
});
