import {
  type ContainerRole,
  DECLARED_DIFFERENCES,
  localOnlyVariableNames,
  oneSidedParts,
  type RenderedPart,
} from '../index.ts';

/**
 * The facts of a rendering, read back from each renderer's output (a synthesised template, a local plan
 * and the rehearsal) in one comparable form. The parity test compares these, never the wiring handed
 * in: a renderer that adds, drops or changes a fact on its own shows up here.
 */
export interface ContainerFacts {
  readonly environment: readonly string[];
  readonly health: {
    interval: number;
    timeout: number;
    retries: number;
    startPeriod: number;
    path: string;
  } | null;
  readonly stopTimeoutSeconds: number | null;
  readonly listens: boolean;
}

export interface TaskFacts {
  /** Containers by name. */
  readonly containers: Record<string, ContainerFacts>;
  /** Grant kinds the task holds (IAM on AWS, the variables handed out locally). */
  readonly grants: readonly string[];
}

export interface RouteFacts {
  readonly rules: readonly { service: string; paths: readonly string[]; priority: number }[];
  /** The listener's default: a service, or a fixed response. */
  readonly default: { service: string } | { status: number; contentType: string; body: string } | null;
}

/**
 * The rest of a rendering, per task and per platform part, keyed by what it is (`task frontend:
 * scaling`, `directory`, `rollback minimum volume`, …). A renderer that does not render a part leaves
 * its key out; {@link PART_OF} names the declared part that allows it.
 */
export type PartFacts = Record<string, unknown>;

export interface Rendering {
  readonly tasks: Record<string, TaskFacts>;
  readonly routes: RouteFacts;
  readonly parts: PartFacts;
}

/** The declared part a fact belongs to, for the facts only one renderer renders. */
export function partOf(key: string): RenderedPart | undefined {
  if (/^task [a-z0-9-]+: scaling$/.test(key)) return 'task.scaling';
  if (/^task [a-z0-9-]+: target group$/.test(key)) return 'task.target-group';
  return PART_OF[key];
}

const PART_OF: Readonly<Record<string, RenderedPart>> = {
  'directory health source': 'directory.health-source',
  'model instances': 'model.instances',
  'model health': 'model.health',
  'api stage': 'api.stage',
  'api keys': 'api.keys',
  'api schema': 'api.schema',
  'rollback evaluation periods': 'rollback.evaluation-periods',
};

/**
 * Every difference between the renderings and the wiring that {@link DECLARED_DIFFERENCES} does not
 * name, one line each. Containers, grants and routes are compared between the two renderers; every
 * other part with the wiring's own rendering (`expected`), on each side that renders it. Empty means
 * parity.
 */
export function undeclaredDifferences(
  aws: Rendering,
  local: Rendering,
  roles: Record<string, ContainerRole>,
  expected?: PartFacts,
): string[] {
  const found = [...taskDifferences(aws, local, roles)];
  if (JSON.stringify(aws.routes.rules) !== JSON.stringify(local.routes.rules)) {
    found.push(
      `routes: ${JSON.stringify(aws.routes.rules)} on AWS, ${JSON.stringify(local.routes.rules)} locally`,
    );
  }
  if (JSON.stringify(aws.routes.default) !== JSON.stringify(local.routes.default)) {
    found.push(
      `default route: ${JSON.stringify(aws.routes.default)} on AWS, ${JSON.stringify(local.routes.default)} locally`,
    );
  }
  if (expected) found.push(...partDifferences(expected, aws.parts, local.parts));
  return found;
}

function partDifferences(expected: PartFacts, aws: PartFacts, local: PartFacts): string[] {
  const found: string[] = [];
  const oneSided = oneSidedParts();
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(aws), ...Object.keys(local)])].sort();
  for (const key of keys) {
    const want = stable(expected[key]);
    for (const [side, facts, allowedMissing] of [
      ['on AWS', aws, oneSided.local],
      ['locally', local, oneSided.aws],
    ] as const) {
      if (!(key in expected)) {
        if (key in facts) found.push(`${key}: ${stable(facts[key])} only ${side}, not in the wiring`);
        continue;
      }
      if (!(key in facts)) {
        const part = partOf(key);
        if (!part || !allowedMissing.has(part)) found.push(`${key}: not rendered ${side}`);
        continue;
      }
      const got = stable(facts[key]);
      if (got !== want) found.push(`${key}: ${got} ${side}, the wiring says ${want}`);
    }
  }
  return found;
}

function taskDifferences(aws: Rendering, local: Rendering, roles: Record<string, ContainerRole>): string[] {
  const found: string[] = [];
  const awsOnly = new Set<ContainerRole>(
    DECLARED_DIFFERENCES.flatMap((d) => ('awsOnlyContainers' in d ? [...d.awsOnlyContainers] : [])),
  );
  const services = new Set([...Object.keys(aws.tasks), ...Object.keys(local.tasks)]);
  for (const service of services) {
    const a = aws.tasks[service];
    const l = local.tasks[service];
    if (!a || !l) {
      found.push(`${service}: rendered only ${a ? 'on AWS' : 'locally'}`);
      continue;
    }
    const names = new Set([...Object.keys(a.containers), ...Object.keys(l.containers)]);
    for (const name of names) {
      const role = roles[name];
      if (!role) {
        found.push(`${service}/${name}: a container the wiring does not name`);
        continue;
      }
      const ac = a.containers[name];
      const lc = l.containers[name];
      if (!lc && ac && awsOnly.has(role)) continue;
      if (!ac || !lc) {
        found.push(`${service}/${name}: container rendered only ${ac ? 'on AWS' : 'locally'}`);
        continue;
      }
      found.push(...containerDifferences(`${service}/${name}`, ac, lc, localOnlyVariableNames(role)));
    }
    if (JSON.stringify(a.grants) !== JSON.stringify(l.grants)) {
      found.push(
        `${service}: grants ${a.grants.join(',') || 'none'} on AWS, ${l.grants.join(',') || 'none'} locally`,
      );
    }
  }
  return found;
}

function containerDifferences(
  where: string,
  ac: ContainerFacts,
  lc: ContainerFacts,
  localOnly: ReadonlySet<string>,
): string[] {
  const found: string[] = [];
  const localEnv = lc.environment.filter((n) => !localOnly.has(n));
  for (const n of ac.environment.filter((x) => !localEnv.includes(x)))
    found.push(`${where}: ${n} only on AWS`);
  for (const n of localEnv.filter((x) => !ac.environment.includes(x)))
    found.push(`${where}: ${n} only locally`);
  if (JSON.stringify(ac.health) !== JSON.stringify(lc.health)) {
    found.push(`${where}: health ${JSON.stringify(ac.health)} on AWS, ${JSON.stringify(lc.health)} locally`);
  }
  if (ac.stopTimeoutSeconds !== lc.stopTimeoutSeconds) {
    found.push(`${where}: stop timeout ${ac.stopTimeoutSeconds}s on AWS, ${lc.stopTimeoutSeconds}s locally`);
  }
  if (ac.listens !== lc.listens) found.push(`${where}: listens ${ac.listens} on AWS, ${lc.listens} locally`);
  return found;
}

/** JSON with sorted keys, so two equal facts print the same. */
export function stable(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'undefined';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}
