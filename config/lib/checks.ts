import type { Construct } from 'constructs';
import { DeclarationError } from './declaration-error.ts';

/**
 * Returns `id` when `scope` has no child of that id, else throws a {@link DeclarationError} naming the
 * construct that holds it. Called in the `super(scope, freeId(scope, id, fix))` of each construct,
 * before the constructs library would throw its own "There is already a Construct with name …".
 */
export function freeId(scope: Construct, id: string, fix: string): string {
  const holder = scope.node.tryFindChild(id);
  if (holder) {
    const path = scope.node.path ? `${scope.node.path}/${id}` : id;
    throw new DeclarationError(
      path,
      'id',
      id,
      `is already taken by the ${holder.constructor.name} ${holder.node.path}`,
      fix,
    );
  }
  return id;
}

/** The fix of a duplicate id inside a platform. */
export const DISTINCT_ID_FIX =
  'give each service and model endpoint of a platform its own id (the id is its name on AWS and locally)';

/**
 * Small early checks used by constructors. Each throws a {@link DeclarationError} naming the construct
 * path, the prop, the value and the fix.
 */
export class Check {
  /**
   * @param prefix put before every prop named in a message: an environment's override is checked as the
   *   prop itself, and named where it is declared (`environments.staging.`).
   */
  constructor(
    private readonly path: string,
    private readonly prefix = '',
  ) {}

  /** The same checks, naming props under `prefix` (an environment's overrides). */
  within(prefix: string): Check {
    return new Check(this.path, `${this.prefix}${prefix}`);
  }

  integer(name: string, value: number, min: number, max: number, unit = ''): number {
    const prop = `${this.prefix}${name}`;
    const suffix = unit ? ` ${unit}` : '';
    if (!Number.isInteger(value)) {
      throw new DeclarationError(
        this.path,
        prop,
        value,
        'must be a whole number',
        `set ${prop} to a whole number${suffix}`,
      );
    }
    if (value < min) {
      throw new DeclarationError(
        this.path,
        prop,
        value,
        `must be ≥ ${min}`,
        `set ${prop} to ${min}${suffix} or more`,
      );
    }
    if (value > max) {
      throw new DeclarationError(
        this.path,
        prop,
        value,
        `must be ≤ ${max}`,
        `set ${prop} to ${max}${suffix} or less`,
      );
    }
    return value;
  }

  number(name: string, value: number, min: number, max: number): number {
    const prop = `${this.prefix}${name}`;
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new DeclarationError(
        this.path,
        prop,
        value,
        `must be between ${min} and ${max}`,
        `set ${prop} to a number from ${min} to ${max}`,
      );
    }
    return value;
  }

  atLeast(name: string, value: number, otherProp: string, other: number): void {
    const prop = `${this.prefix}${name}`;
    if (value < other) {
      throw new DeclarationError(
        this.path,
        prop,
        value,
        `must be ≥ ${otherProp} (${other})`,
        `raise ${prop} to at least ${other} or lower ${otherProp}`,
      );
    }
  }

  lessThan(name: string, value: number, otherProp: string, other: number): void {
    const prop = `${this.prefix}${name}`;
    if (value >= other) {
      throw new DeclarationError(
        this.path,
        prop,
        value,
        `must be < ${otherProp} (${other})`,
        `set ${prop} below ${other} or raise ${otherProp}`,
      );
    }
  }

  /** `value` must be one of `allowed` (listed in the fix, in order). */
  oneOf(name: string, value: number, allowed: readonly number[], rule: string): number {
    const prop = `${this.prefix}${name}`;
    if (!allowed.includes(value)) {
      throw new DeclarationError(this.path, prop, value, rule, `use one of ${allowed.join(', ')}`);
    }
    return value;
  }

  pattern(name: string, value: string, pattern: RegExp, rule: string, fix: string): string {
    const prop = `${this.prefix}${name}`;
    if (!pattern.test(value)) throw new DeclarationError(this.path, prop, value, rule, fix);
    return value;
  }

  fail(name: string, value: unknown, rule: string, fix: string): never {
    const prop = `${this.prefix}${name}`;
    throw new DeclarationError(this.path, prop, value, rule, fix);
  }
}
