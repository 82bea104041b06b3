import { createRequire } from 'node:module';
/**
 * Checks a synthesised CloudFormation template against the CloudFormation resource specification (the
 * CDK's own database, `@aws-cdk/aws-service-spec`), so a property override, an escape hatch or a new
 * resource that CloudFormation would reject fails in the test suite instead of on the first deploy.
 *
 * Checked: resource types exist; every property is known and every required one present, also inside
 * nested property types; values have the declared kind (string, number, boolean, list, map, object);
 * `Ref`, `Fn::GetAtt`, `Fn::Sub` and `DependsOn` point at something the template declares, and GetAtt
 * names an attribute the type has. An intrinsic function stands for any kind (its value is known only
 * at deploy time); its arguments are still checked for references.
 *
 * Pure: template JSON and a {@link ResourceSpec} in, findings out. `loadResourceSpec()` is the adapter.
 *
 * @example
 * const findings = checkTemplate(template, await loadResourceSpec());
 * // [{ resource: 'Api', path: 'Properties.Nmae', message: "unknown property 'Nmae' of AWS::ApiGateway::RestApi" }]
 */

import {
  asArray,
  checkReferences,
  isFreeForm,
  isObject,
  type Report,
  type TemplateResource,
} from './spec-references.ts';
import type { ResourceSpec, SpecFinding, SpecResource, SpecShape, SpecType } from './spec-types.ts';

export type {
  ResourceSpec,
  SpecFinding,
  SpecProperty,
  SpecResource,
  SpecShape,
  SpecType,
} from './spec-types.ts';

/** Keys CloudFormation accepts on a resource besides `Type` and `Properties`. */
const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'UpdatePolicy',
  'CreationPolicy',
  'Metadata',
]);

/** Every finding of `template` against `spec`, in template order. */
export function checkTemplate(template: unknown, spec: ResourceSpec): SpecFinding[] {
  const findings: SpecFinding[] = [];
  const root = isObject(template) ? template : {};
  const resources = isObject(root.Resources) ? (root.Resources as Record<string, TemplateResource>) : {};
  const parameters = isObject(root.Parameters) ? root.Parameters : {};
  const conditions = isObject(root.Conditions) ? root.Conditions : {};
  const names = {
    resources,
    parameters: new Set(Object.keys(parameters)),
    conditions: new Set(Object.keys(conditions)),
  };

  for (const [id, resource] of Object.entries(resources)) {
    const at = (path: string, message: string) => findings.push({ resource: id, path, message });
    if (!isObject(resource) || typeof resource.Type !== 'string') {
      at('Type', 'a resource needs a Type');
      continue;
    }
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_KEYS.has(key)) at(key, `unknown resource attribute '${key}'`);
    }
    const type = resource.Type;
    if (!isFreeForm(type)) {
      const spec_ = spec.resource(type);
      if (!spec_) {
        at('Type', `unknown resource type '${type}'`);
      } else if (resource.Properties !== undefined && !isObject(resource.Properties)) {
        at('Properties', 'must be an object');
      } else {
        checkShape(
          (resource.Properties ?? {}) as Record<string, unknown>,
          spec_,
          type,
          'Properties',
          at,
          spec,
        );
      }
    }
    for (const target of typeof resource.DependsOn === 'string'
      ? [resource.DependsOn]
      : asArray(resource.DependsOn)) {
      if (typeof target !== 'string' || !(target in resources)) {
        at('DependsOn', `depends on ${JSON.stringify(target)}, which is not a resource of this template`);
      }
    }
    if (typeof resource.Condition === 'string' && !names.conditions.has(resource.Condition)) {
      at('Condition', `condition '${resource.Condition}' is not declared`);
    }
    checkReferences(resource.Properties, 'Properties', at, names, spec);
  }
  if (isObject(root.Outputs)) {
    for (const [name, output] of Object.entries(root.Outputs)) {
      checkReferences(
        output,
        '',
        (path, message) => findings.push({ resource: `Outputs.${name}`, path, message }),
        names,
        spec,
      );
    }
  }
  for (const [name, condition] of Object.entries(conditions)) {
    checkReferences(
      condition,
      '',
      (path, message) => findings.push({ resource: `Conditions.${name}`, path, message }),
      names,
      spec,
    );
  }
  return findings;
}

/** One line per finding: `Api (Properties.Nmae): unknown property …`. */
export function formatSpecFindings(findings: readonly SpecFinding[]): string {
  return findings.map((f) => `${f.resource} (${f.path}): ${f.message}`).join('\n');
}

function checkShape(
  value: Record<string, unknown>,
  shape: SpecShape,
  shapeName: string,
  path: string,
  at: Report,
  spec: ResourceSpec,
): void {
  for (const [name, child] of Object.entries(value)) {
    const property = shape.properties[name];
    if (!property) {
      at(`${path}.${name}`, `unknown property '${name}' of ${shapeName}`);
      continue;
    }
    const accepted = [property.type, ...(property.previousTypes ?? [])];
    const attempts = accepted.map((type) => {
      const found: Array<[string, string]> = [];
      checkValue(child, type, `${path}.${name}`, (p, m) => found.push([p, m]), spec);
      return found;
    });
    if (attempts.some((found) => found.length === 0)) continue;
    for (const [p, m] of attempts[0]!) at(p, m);
  }
  for (const [name, property] of Object.entries(shape.properties)) {
    if (property.required && !(name in value))
      at(`${path}.${name}`, `required property '${name}' of ${shapeName} is missing`);
  }
}

function checkValue(value: unknown, type: SpecType, path: string, at: Report, spec: ResourceSpec): void {
  if (isIntrinsic(value)) return;
  switch (type.type) {
    case 'string':
    case 'date-time':
      // CloudFormation turns a number or boolean given for a string into its text.
      if (!isScalar(value)) at(path, `must be a string, got ${kindOf(value)}`);
      return;
    case 'number':
    case 'integer':
      if (
        !(
          typeof value === 'number' ||
          (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
        )
      ) {
        at(path, `must be a number, got ${kindOf(value)}`);
      }
      return;
    case 'boolean':
      if (!(typeof value === 'boolean' || value === 'true' || value === 'false'))
        at(path, `must be a boolean, got ${kindOf(value)}`);
      return;
    case 'json':
      if (!(isObject(value) || Array.isArray(value) || typeof value === 'string'))
        at(path, `must be a JSON document, got ${kindOf(value)}`);
      return;
    case 'null':
      if (value !== null) at(path, `must be null, got ${kindOf(value)}`);
      return;
    case 'tag':
      if (!isObject(value)) at(path, `must be a tag {Key, Value}, got ${kindOf(value)}`);
      else checkShape(value, TAG_SHAPE, 'Tag', path, at, spec);
      return;
    case 'array':
      if (!Array.isArray(value)) at(path, `must be a list, got ${kindOf(value)}`);
      else for (const [i, item] of value.entries()) checkValue(item, type.element, `${path}.${i}`, at, spec);
      return;
    case 'map':
      if (!isObject(value)) at(path, `must be a map, got ${kindOf(value)}`);
      else for (const [k, v] of Object.entries(value)) checkValue(v, type.element, `${path}.${k}`, at, spec);
      return;
    case 'ref': {
      const definition = spec.typeDefinition(type.reference.$ref);
      if (!definition) return;
      if (!isObject(value)) at(path, `must be an object (${definition.name}), got ${kindOf(value)}`);
      else checkShape(value, definition, definition.name, path, at, spec);
      return;
    }
    case 'union': {
      const attempts = type.types.map((t) => {
        const found: Array<[string, string]> = [];
        checkValue(value, t, path, (p, m) => found.push([p, m]), spec);
        return found;
      });
      if (attempts.some((found) => found.length === 0)) return;
      at(path, `matches none of its types (${attempts.map((a) => a[0]?.[1]).join('; ')})`);
      return;
    }
  }
}

const TAG_SHAPE: SpecShape = {
  properties: {
    Key: { type: { type: 'string' }, required: true },
    Value: { type: { type: 'string' }, required: true },
  },
};

function isIntrinsic(value: unknown): boolean {
  if (!isObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
}

function isScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (isObject(value)) return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * The CloudFormation resource specification shipped with the CDK (`@aws-cdk/aws-service-spec`,
 * a devDependency: only tests and checks load it, about one second).
 */
export async function loadResourceSpec(): Promise<ResourceSpec> {
  const { loadAwsServiceSpec } = await import('@aws-cdk/aws-service-spec');
  return specOf(await loadAwsServiceSpec());
}

let cached: ResourceSpec | undefined;

/** {@link loadResourceSpec}, synchronously and loaded once per process (for synchronous test builders). */
export function loadResourceSpecSync(): ResourceSpec {
  cached ??= specOf(createRequire(import.meta.url)('@aws-cdk/aws-service-spec').loadAwsServiceSpecSync());
  return cached;
}

type SpecDatabase = Awaited<ReturnType<typeof import('@aws-cdk/aws-service-spec').loadAwsServiceSpec>>;

function specOf(db: SpecDatabase): ResourceSpec {
  return {
    resource: (type) =>
      db.lookup('resource', 'cloudFormationType', 'equals', type)[0] as SpecResource | undefined,
    typeDefinition: (id) => {
      try {
        return db.get('typeDefinition', id) as SpecShape & { name: string };
      } catch {
        return undefined; // a dangling reference inside the spec itself: nothing to check against
      }
    },
  };
}
