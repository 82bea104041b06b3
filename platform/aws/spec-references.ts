import type { ResourceSpec } from './spec-types.ts';

/**
 * The reference checks of `spec-check.ts`: `Ref`, `Fn::GetAtt`, `Fn::Sub` and `Condition` inside any
 * value must name something the template declares (or a pseudo parameter), and GetAtt an attribute
 * the resource type has.
 */

export interface TemplateResource {
  readonly Type?: unknown;
  readonly Properties?: unknown;
  readonly DependsOn?: unknown;
  readonly [key: string]: unknown;
}

export type Report = (path: string, message: string) => void;

const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

/**
 * Types CloudFormation handles itself (custom resources take any properties and return any attribute;
 * `AWS::CDK::Metadata` is the CDK's analytics resource, accepted by CloudFormation but not in the spec).
 */
export function isFreeForm(type: string): boolean {
  return (
    type.startsWith('Custom::') ||
    type === 'AWS::CloudFormation::CustomResource' ||
    type === 'AWS::CDK::Metadata'
  );
}

export interface Names {
  readonly resources: Readonly<Record<string, TemplateResource>>;
  readonly parameters: ReadonlySet<string>;
  readonly conditions: ReadonlySet<string>;
}

/** Walks any value for `Ref`, `Fn::GetAtt`, `Fn::Sub` and `Condition` references. */
export function checkReferences(
  value: unknown,
  path: string,
  at: Report,
  names: Names,
  spec: ResourceSpec,
  locals: ReadonlySet<string> = new Set(),
): void {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries())
      checkReferences(item, join(path, String(i)), at, names, spec, locals);
    return;
  }
  if (!isObject(value)) return;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const argument = value[key];
    if (key === 'Ref') {
      if (typeof argument !== 'string') at(path, 'Ref takes a logical id');
      else if (!isKnownName(argument, names, locals))
        at(path, `Ref to '${argument}', which this template does not declare`);
      return;
    }
    if (key === 'Fn::GetAtt') {
      const [target, attribute] =
        typeof argument === 'string' ? splitOnce(argument, '.') : (asArray(argument) as [unknown, unknown]);
      checkGetAtt(target, attribute, path, at, names, spec);
      if (Array.isArray(argument) && typeof argument[1] !== 'string')
        checkReferences(argument[1], path, at, names, spec, locals);
      return;
    }
    if (key === 'Fn::Sub') {
      const [text, variables] =
        typeof argument === 'string' ? [argument, {}] : (asArray(argument) as [unknown, unknown]);
      const own = new Set([...locals, ...Object.keys(isObject(variables) ? variables : {})]);
      if (typeof text === 'string') {
        for (const [, expression] of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const [target, attribute] = splitOnce(expression!.trim(), '.');
          if (attribute === undefined) {
            if (!isKnownName(target, names, own))
              at(path, `Fn::Sub names '${target}', which this template does not declare`);
          } else if (!own.has(expression!.trim())) {
            checkGetAtt(target, attribute, path, at, names, spec);
          }
        }
      }
      checkReferences(variables, path, at, names, spec, locals);
      return;
    }
    if (key === 'Condition' && typeof argument === 'string' && !names.conditions.has(argument)) {
      at(path, `condition '${argument}' is not declared`);
      return;
    }
  }
  for (const [k, v] of Object.entries(value)) checkReferences(v, join(path, k), at, names, spec, locals);
}

function checkGetAtt(
  target: unknown,
  attribute: unknown,
  path: string,
  at: Report,
  names: Names,
  spec: ResourceSpec,
): void {
  if (typeof target !== 'string' || !(target in names.resources)) {
    at(path, `Fn::GetAtt on '${String(target)}', which is not a resource of this template`);
    return;
  }
  const type = names.resources[target]!.Type;
  if (typeof attribute !== 'string' || typeof type !== 'string' || isFreeForm(type)) return;
  if (type === 'AWS::CloudFormation::Stack' && attribute.startsWith('Outputs.')) return;
  const resource = spec.resource(type);
  if (resource && !(attribute in resource.attributes)) {
    at(
      path,
      `Fn::GetAtt ${target}.${attribute}: ${type} has no attribute '${attribute}' (it has ${Object.keys(resource.attributes).join(', ') || 'none'})`,
    );
  }
}

function isKnownName(name: string, names: Names, locals: ReadonlySet<string>): boolean {
  return (
    PSEUDO_PARAMETERS.has(name) || name in names.resources || names.parameters.has(name) || locals.has(name)
  );
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

export function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
