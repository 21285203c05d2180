/**
 * Payload validation against a class-validator DTO, shared by `topic$({ dto })` and
 * `@PlumtreeSubscribe(..., { dto })`. Runs class-validator's `validate`, so asynchronous rules
 * (`@ValidatorConstraint({ async: true })`, a lookup in a store) are applied, not skipped as
 * `validateSync` skips them.
 */
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';

/** The result of checking one payload. */
export type DtoCheck =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Transform `payload` into an instance of `dto` and validate it (whitelisting nothing). */
export async function checkDto(
  dto: new (...args: never[]) => object,
  payload: unknown,
): Promise<DtoCheck> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, errors: ['payload must be an object'] };
  }
  const value = plainToInstance(dto as new () => object, payload);
  const errors = await validate(value);
  if (errors.length === 0) return { ok: true, value };
  return {
    ok: false,
    errors: errors.map(
      (e) =>
        `${e.property}: ${Object.values(e.constraints ?? { nested: 'invalid nested value' }).join(', ')}`,
    ),
  };
}
