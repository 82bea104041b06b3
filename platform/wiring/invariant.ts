/**
 * A wiring that breaks one of its own invariants: a renderer was handed something no checked
 * declaration produces (config/ refuses every declaration a user can fix, with its path, value and
 * fix). It names what is broken; it is a defect of this repository, not of the user's declaration.
 *
 * @example
 * throw new WiringInvariantError('acme-platform/Service-api', 'invoke-model needs the model endpoint');
 */
export class WiringInvariantError extends Error {
  constructor(
    readonly where: string,
    readonly invariant: string,
  ) {
    super(`${where}: ${invariant} (a broken wiring invariant, not a declaration error)`);
    this.name = 'WiringInvariantError';
  }
}
