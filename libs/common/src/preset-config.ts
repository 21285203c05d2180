/**
 * The one pipeline of a preset-based configuration: start from a named preset, apply the
 * overrides the user wrote, validate every field (class-validator decorators on the config
 * class), and collect every problem instead of stopping at the first. {@link presetResolver}
 * adds the checks across fields, throws the configuration's own {@link ProblemListError}
 * subclass once, and marks what it returns as resolved (frozen, taken as it is below).
 */
import { validateSync } from 'class-validator';
import type { Problem, ProblemListError } from './problem-list.js';
import { ResolvedMarks, type Resolved } from './resolved.js';

/** What {@link resolvePreset} needs to know about one configuration class. */
export interface PresetSpec<C extends object, P extends string> {
  /** Every preset name, for the "unknown preset" message. */
  readonly presets: readonly P[];
  /** The preset used when the input names none. */
  readonly defaultPreset: P;
  /** A fresh configuration of that preset. */
  readonly preset: (name: P) => C;
  /** The fields an override may set: the configuration class's own fields. */
  readonly fields: ReadonlySet<string>;
}

/** A configuration built from a preset and overrides, and every problem found on the way. */
export interface PresetResolution<C> {
  readonly config: C;
  /** Unknown preset, unknown fields, wrong types and out-of-range values, in that order. */
  readonly problems: Problem[];
}

/**
 * Start from `input.preset` (default `spec.defaultPreset`; an unknown name is a problem and the
 * default is used), copy every other defined field of `input` over it (an unknown field is a
 * problem and is not copied), then validate the result.
 */
export function resolvePreset<C extends object, P extends string>(
  input: object,
  spec: PresetSpec<C, P>,
): PresetResolution<C> {
  const problems: Problem[] = [];
  const raw = input as Record<string, unknown>;
  const presetName = raw['preset'] ?? spec.defaultPreset;
  let config: C;
  if (typeof presetName === 'string' && (spec.presets as readonly string[]).includes(presetName)) {
    config = spec.preset(presetName as P);
  } else {
    problems.push({
      field: 'preset',
      message: `unknown preset ${JSON.stringify(presetName)} (expected one of ${spec.presets.join(', ')})`,
    });
    config = spec.preset(spec.defaultPreset);
  }
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'preset' || value === undefined) continue;
    if (!spec.fields.has(key)) {
      problems.push({ field: key, message: 'unknown option' });
      continue;
    }
    (config as Record<string, unknown>)[key] = value;
  }
  problems.push(...validationProblems(config));
  return { config, problems };
}

/**
 * The class-validator problems of `target` (an instance of a decorated class), one per field with
 * every failed constraint joined.
 */
export function validationProblems(target: object): Problem[] {
  return validateSync(target).map((e) => ({
    field: e.property,
    message: Object.values(e.constraints ?? {}).join(', ') || 'invalid',
  }));
}

/** What {@link presetResolver} needs beyond {@link PresetSpec}. */
export interface PresetResolverSpec<C extends object, P extends string> extends PresetSpec<C, P> {
  /** The problems across fields (pairs that must agree), after the field checks. */
  readonly crossChecks: (config: C) => Problem[];
  /** The configuration's own error, thrown once with every problem. */
  readonly error: (problems: readonly Problem[]) => ProblemListError;
  /** The marks to use (to mark derived configurations too); default new ones. */
  readonly marks?: ResolvedMarks<C>;
}

/**
 * The resolver of one configuration class: {@link resolvePreset}, then `crossChecks`; throws
 * `error(problems)` when anything is wrong, else returns the configuration frozen and marked. A
 * configuration it returned is returned as it is (it was checked at the edge).
 */
export function presetResolver<C extends object, P extends string, I extends object>(
  spec: PresetResolverSpec<C, P>,
): (input?: I | C) => Resolved<C> {
  const marks = spec.marks ?? new ResolvedMarks<C>();
  return (input = {} as I) => {
    if (marks.has(input)) return input;
    const { config, problems } = resolvePreset(input, spec);
    problems.push(...spec.crossChecks(config));
    if (problems.length > 0) throw spec.error(problems);
    return marks.mark(config);
  };
}
