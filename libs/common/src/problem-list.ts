/**
 * One error shape for "every problem at once": invalid configuration or options fail at startup
 * with one error whose message lists every problem, and whose `problems` a caller can read field
 * by field (to re-report them under a prefix, as the node does with `swim.x` and `plumtree.x`).
 */

/** One invalid field: its name (dotted for nested ones, `x[i]` for list items) and what is wrong. */
export interface Problem {
  readonly field: string;
  readonly message: string;
}

/**
 * The message of a problem-list error:
 * `Invalid <subject> (<n> problem[s]): <field>: <message>; <field>: <message>`.
 */
export function formatProblems(subject: string, problems: readonly Problem[]): string {
  const n = problems.length;
  return (
    `Invalid ${subject} (${n} problem${n === 1 ? '' : 's'}): ` +
    problems.map((p) => `${p.field}: ${p.message}`).join('; ')
  );
}

/**
 * Base class of the errors that name every problem of a configuration at once. A subclass fixes
 * the subject (`'SWIM configuration'`, ...) and its name. Errors that must keep another base (a
 * package's own error root) carry the same `problems` and build their message with
 * {@link formatProblems}.
 */
export class ProblemListError extends Error {
  override readonly name: string = 'ProblemListError';

  constructor(
    subject: string,
    /** Every problem found, in the order they were checked. */
    readonly problems: readonly Problem[],
  ) {
    super(formatProblems(subject, problems));
  }
}
