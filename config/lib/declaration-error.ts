/**
 * A declaration that cannot be rendered. The message names the construct path, the prop, the value
 * received and the fix, so a user can correct the declaration without reading renderer code.
 *
 * @example
 * // acme/backend: scaling.min (0) must be ≥ 1. Fix: set scaling.min to 1 or more.
 */
export class DeclarationError extends Error {
  constructor(
    readonly constructPath: string,
    readonly prop: string,
    readonly value: unknown,
    readonly rule: string,
    readonly fix: string,
  ) {
    super(`${constructPath}: ${prop} (${formatValue(value)}) ${rule}. Fix: ${fix}.`);
    this.name = 'DeclarationError';
  }
}

/** Every problem found when the whole app is validated at synth, reported together. */
export class DeclarationErrors extends Error {
  constructor(readonly errors: readonly string[]) {
    super(
      `the declaration has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n- ${errors.join('\n- ')}`,
    );
    this.name = 'DeclarationErrors';
  }
}

export function formatValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'undefined';
  return JSON.stringify(value) ?? String(value);
}
