import { describe, expect, it } from '@jest/globals';
import { formatProblems, ProblemListError } from './problem-list.js';

class WidgetOptionsError extends ProblemListError {
  override readonly name = 'WidgetOptionsError';
  constructor(problems: ConstructorParameters<typeof ProblemListError>[1]) {
    super('widget options', problems);
  }
}

describe('problem-list errors', () => {
  it('one message lists every problem, counted, in order', () => {
    expect(formatProblems('widget options', [{ field: 'a', message: 'must be set' }])).toBe(
      'Invalid widget options (1 problem): a: must be set',
    );
    const e = new WidgetOptionsError([
      { field: 'a', message: 'must be set' },
      { field: 'b.c', message: 'unknown option' },
    ]);
    expect(e.message).toBe(
      'Invalid widget options (2 problems): a: must be set; b.c: unknown option',
    );
    expect(e.problems.map((p) => p.field)).toEqual(['a', 'b.c']);
  });

  it('a subclass stays catchable by its own class and by the base', () => {
    const e = new WidgetOptionsError([]);
    expect(e).toBeInstanceOf(WidgetOptionsError);
    expect(e).toBeInstanceOf(ProblemListError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('WidgetOptionsError');
  });
});
