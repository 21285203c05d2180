import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import {
  IsInt,
  IsString,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { checkDto } from './dto-validation.js';
import { joinHeaders, splitHeaders } from './plumtree.context.js';
import {
  nodeOptionsOf,
  requestOptionsOf,
  validatePlumtreeModuleOptions,
} from './plumtree-module-options.js';
import { PlumtreeOptionsError } from './plumtree.errors.js';

class Dto {
  @IsString() id!: string;
  @IsInt() n!: number;
}

describe('PlumtreeModule options', () => {
  it('names every bad field at once, Nest-level and node-level', () => {
    let err: unknown;
    try {
      validatePlumtreeModuleOptions({
        name: '',
        bindPort: -1,
        requestTimeoutMs: 0,
        requestMaxAttempts: 1.5,
        shareServer: 'yes',
        plumtree: { eagerFanout: -3 },
        bogus: 1,
      } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlumtreeOptionsError);
    const fields = (err as PlumtreeOptionsError).problems.map((p) => p.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'shareServer',
        'requestTimeoutMs',
        'requestMaxAttempts',
        'name',
        'bindPort',
        'bogus',
      ]),
    );
    expect(fields.some((f) => f.startsWith('plumtree.'))).toBe(true);
    expect((err as Error).message).toMatch(/^Invalid Plumtree options \(\d+ problems\): /);
  });

  it('checks the persistence options too (dataDir, staticSeeds, lazarus, durable)', () => {
    const ok = {
      name: 'a',
      dataDir: '/var/lib/app/plumtree',
      staticSeeds: ['10.0.0.1:7946', 'seed.internal:7946'],
      lazarus: { enabled: true, intervalMs: 30_000 },
      durable: { topics: ['orders.#'], retentionMs: 3_600_000, maxMessages: 50_000 },
    };
    expect(() => validatePlumtreeModuleOptions(ok)).not.toThrow();
    let err: unknown;
    try {
      validatePlumtreeModuleOptions({
        name: 'a',
        staticSeeds: ['no-port'],
        lazarus: { intervalMs: 0 },
        durable: { topics: ['bad..topic'], maxMessages: -1 },
      });
    } catch (e) {
      err = e;
    }
    const fields = (err as PlumtreeOptionsError).problems.map((p) => p.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'staticSeeds',
        'lazarus.intervalMs',
        'durable.topics[0]',
        'durable.maxMessages',
      ]),
    );
  });

  it('accepts valid options and a shared server by name, and strips Nest-level fields', () => {
    expect(() => validatePlumtreeModuleOptions({ name: 'a', bindPort: 0 })).not.toThrow();
    expect(() => validatePlumtreeModuleOptions({ shareServer: true, name: 'a' })).not.toThrow();
    expect(() => validatePlumtreeModuleOptions({ shareServer: true })).toThrow(/name: shareServer/);
    expect(nodeOptionsOf({ name: 'a', requestTimeoutMs: 5, shareServer: false })).toEqual({
      name: 'a',
    });
  });
});

describe('headers, metadata and DTOs', () => {
  it('carries metadata beside headers and splits it back', () => {
    const joined = joinHeaders({ h: '1' }, { trace: 't' });
    expect(joined).toEqual({ h: '1', 'nest-meta:trace': 't' });
    expect(splitHeaders(joined!)).toEqual({ headers: { h: '1' }, metadata: { trace: 't' } });
    expect(joinHeaders(undefined, {})).toBeUndefined();
  });

  it('transforms valid payloads into instances and lists what is invalid', async () => {
    const ok = await checkDto(Dto, { id: 'x', n: 1 });
    expect(ok.ok && ok.value instanceof Dto).toBe(true);
    const bad = await checkDto(Dto, { id: 1 });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors.map((e) => e.split(':')[0])).toEqual(['id', 'n']);
    expect(await checkDto(Dto, 'text')).toEqual({
      ok: false,
      errors: ['payload must be an object'],
    });
  });

  it('applies asynchronous rules', async () => {
    @ValidatorConstraint({ name: 'knownId', async: true })
    class KnownId implements ValidatorConstraintInterface {
      async validate(id: unknown): Promise<boolean> {
        await new Promise((r) => setImmediate(r));
        return id === 'known';
      }
    }
    class Lookup {
      @Validate(KnownId) id!: string;
    }
    expect((await checkDto(Lookup, { id: 'known' })).ok).toBe(true);
    const bad = await checkDto(Lookup, { id: 'other' });
    expect(!bad.ok && bad.errors).toEqual([expect.stringMatching(/^id: /)]);
  });

  it('maps the module request options to request options, overrides last', () => {
    expect(
      requestOptionsOf(
        { requestTimeoutMs: 100, requestMaxAttempts: 1, requestRetryOnTimeout: true },
        { metadata: { a: 'b' }, timeoutMs: 50 },
      ),
    ).toEqual({ timeoutMs: 50, maxAttempts: 1, retryOnTimeout: true, metadata: { a: 'b' } });
    expect(requestOptionsOf({})).toEqual({});
  });
});
