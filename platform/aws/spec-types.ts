/** The CloudFormation resource specification as the spec check reads it, and its findings. */

/** The kinds of the specification's property types (a structural subset of `@aws-cdk/service-spec-types`). */
export type SpecType =
  | { readonly type: 'string' | 'number' | 'integer' | 'boolean' | 'json' | 'date-time' | 'null' | 'tag' }
  | { readonly type: 'ref'; readonly reference: { readonly $ref: string } }
  | { readonly type: 'array' | 'map'; readonly element: SpecType }
  | { readonly type: 'union'; readonly types: readonly SpecType[] };

export interface SpecProperty {
  readonly type: SpecType;
  /** Older types CloudFormation still accepts. */
  readonly previousTypes?: readonly SpecType[];
  readonly required?: boolean;
}

/** A resource type or a nested property type. */
export interface SpecShape {
  readonly properties: Readonly<Record<string, SpecProperty>>;
}

export interface SpecResource extends SpecShape {
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** What the checker needs from the specification. */
export interface ResourceSpec {
  resource(cloudFormationType: string): SpecResource | undefined;
  typeDefinition(id: string): (SpecShape & { readonly name: string }) | undefined;
}

/** One problem: the resource's logical id, the path inside it, and what is wrong. */
export interface SpecFinding {
  readonly resource: string;
  readonly path: string;
  readonly message: string;
}
