import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { IsInt, Max, Min } from 'class-validator';
import {
  presetResolver,
  resolvePreset,
  validationProblems,
  type PresetSpec,
} from './preset-config.js';
import { ProblemListError } from './problem-list.js';

const PRESETS = ['small', 'large'] as const;
type PresetName = (typeof PRESETS)[number];

class Widget {
  @IsInt() @Min(1) @Max(10) size = 2;
  @IsInt() @Min(0) delayMs = 100;

  static preset(name: PresetName): Widget {
    return name === 'small' ? new Widget() : Object.assign(new Widget(), { size: 8 });
  }
}

const SPEC: PresetSpec<Widget, PresetName> = {
  presets: PRESETS,
  defaultPreset: 'small',
  preset: Widget.preset,
  fields: new Set(Object.keys(new Widget())),
};

describe('resolvePreset', () => {
  it('starts from the named preset (default when none) and applies the defined overrides', () => {
    expect(resolvePreset({}, SPEC)).toEqual({ config: new Widget(), problems: [] });
    const { config, problems } = resolvePreset(
      { preset: 'large', delayMs: 5, size: undefined },
      SPEC,
    );
    expect(problems).toEqual([]);
    expect(config).toBeInstanceOf(Widget);
    expect({ ...config }).toEqual({ size: 8, delayMs: 5 });
  });

  it('collects every problem: unknown preset, unknown field, then each invalid field', () => {
    const { config, problems } = resolvePreset(
      { preset: 'huge', colour: 'red', size: 0, delayMs: 'soon' },
      SPEC,
    );
    expect(problems.map((p) => p.field)).toEqual(['preset', 'colour', 'size', 'delayMs']);
    expect(problems[0]!.message).toBe('unknown preset "huge" (expected one of small, large)');
    expect(problems[1]!.message).toBe('unknown option');
    expect(problems[2]!.message).toMatch(/size must not be less than 1/);
    expect(config.size).toBe(0); // the default preset, overridden
    expect('colour' in config).toBe(false);
  });
});

describe('validationProblems', () => {
  it('is empty for a valid object and names each failing field once', () => {
    expect(validationProblems(new Widget())).toEqual([]);
    const bad = Object.assign(new Widget(), { size: 11.5 });
    const problems = validationProblems(bad);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.field).toBe('size');
    expect(problems[0]!.message).toMatch(/integer/);
  });
});

describe('presetResolver', () => {
  const resolve = presetResolver<Widget, PresetName, Partial<Widget> & { preset?: PresetName }>({
    ...SPEC,
    crossChecks: (w) =>
      w.delayMs > 50 * w.size ? [{ field: 'delayMs', message: 'too long' }] : [],
    error: (problems) => new ProblemListError('widget', problems),
  });

  it('returns the configuration frozen, and takes back what it returned as it is', () => {
    const w = resolve({ preset: 'large' });
    expect(w).toEqual(Object.assign(new Widget(), { size: 8 }));
    expect(Object.isFrozen(w)).toBe(true);
    expect(resolve(w)).toBe(w);
  });

  it('throws one error with the field problems first, then the cross checks', () => {
    expect(() => resolve({ size: 1, delayMs: 60, colour: 1 } as never)).toThrow(
      'Invalid widget (2 problems): colour: unknown option; delayMs: too long',
    );
  });
});
