import type {
  ContainerDefinition,
  RegisterTaskDefinitionCommandInput,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { TaskWiring } from '../wiring/index.ts';

/**
 * `diff`: the running task definition against the one `deploy` would register, and against the
 * declaration's wiring. DescribeTaskDefinition omits what was never set, and ECS then applies its
 * defaults; both sides get those defaults filled in first, so an unset `essential` and an explicit
 * `true` are the same and only real changes show.
 */

/** ECS API defaults for fields DescribeTaskDefinition leaves out when unset (ECS API reference, ContainerDefinition). */
const CONTAINER_DEFAULTS = {
  essential: true,
  cpu: 0,
  // The ECS agent's ECS_CONTAINER_STOP_TIMEOUT default on EC2.
  stopTimeout: 30,
} as const;
const HEALTH_CHECK_DEFAULTS = { interval: 30, timeout: 5, retries: 3, startPeriod: 0 } as const;
const TASK_DEFAULTS = { volumes: [], placementConstraints: [] } as const;
// Not part of what a revision runs: registration bookkeeping and tags (carried over unchanged).
const IGNORED = new Set([
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
  'deleteRequestedAt',
  'tags',
]);

/** One difference, by a readable path (`containerDefinitions[app].image`). */
export interface DefinitionChange {
  readonly path: string;
  readonly from: unknown;
  readonly to: unknown;
}

/** A task definition (described or about to be registered) with ECS defaults filled in, containers by name. */
export function normalizeTaskDefinition(
  definition: TaskDefinition | RegisterTaskDefinitionCommandInput,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...TASK_DEFAULTS };
  for (const [key, value] of Object.entries(definition)) {
    if (!IGNORED.has(key) && value !== undefined) out[key] = value;
  }
  out.containerDefinitions = Object.fromEntries(
    (definition.containerDefinitions ?? []).map((c) => [c.name ?? '?', normalizeContainer(c)]),
  );
  return out;
}

function normalizeContainer(container: ContainerDefinition): Record<string, unknown> {
  const out: Record<string, unknown> = { ...CONTAINER_DEFAULTS };
  for (const [key, value] of Object.entries(container)) if (value !== undefined) out[key] = value;
  // Order carries no meaning in these lists; keyed, a reordering is not a change.
  out.environment = Object.fromEntries((container.environment ?? []).map((e) => [e.name, e.value]));
  out.secrets = Object.fromEntries((container.secrets ?? []).map((e) => [e.name, e.valueFrom]));
  out.portMappings = (container.portMappings ?? []).map((p) => ({
    protocol: 'tcp',
    // awsvpc: the host port is the container port whether given or not.
    hostPort: p.containerPort,
    ...p,
  }));
  if (container.healthCheck) out.healthCheck = { ...HEALTH_CHECK_DEFAULTS, ...container.healthCheck };
  return out;
}

/** Every leaf that differs between two normalized definitions, in a stable order. */
export function diffDefinitions(
  from: Record<string, unknown>,
  to: Record<string, unknown>,
): DefinitionChange[] {
  const changes: DefinitionChange[] = [];
  walk('', from, to, changes);
  return changes;
}

function walk(path: string, a: unknown, b: unknown, changes: DefinitionChange[]): void {
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const next = path === 'containerDefinitions' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      walk(next, a[key], b[key], changes);
    }
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) changes.push({ path, from: a, to: b });
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** `~ path: "a" → "b"`, `+ path: "b"`, `- path: "a"`. */
export function formatChange(change: DefinitionChange): string {
  if (change.from === undefined) return `+ ${change.path}: ${show(change.to)}`;
  if (change.to === undefined) return `- ${change.path}: ${show(change.from)}`;
  return `~ ${change.path}: ${show(change.from)} → ${show(change.to)}`;
}

const show = (v: unknown) => JSON.stringify(v);

/**
 * Where the running definition differs from what the declaration's wiring decides for the task: facts
 * `deploy` does not change (it only swaps images) and `cdk deploy` does. One line per fact.
 */
export function driftFromWiring(running: TaskDefinition, task: TaskWiring): string[] {
  const lines: string[] = [];
  const byName = new Map((running.containerDefinitions ?? []).map((c) => [c.name ?? '?', c]));
  for (const wired of task.containers) {
    const c = byName.get(wired.name);
    const at = `containerDefinitions[${wired.name}]`;
    if (!c) {
      lines.push(`! ${at}: declared, not in the running definition`);
      continue;
    }
    const n = normalizeContainer(c);
    const compare = (field: string, actual: unknown, declared: unknown) => {
      if (JSON.stringify(actual) !== JSON.stringify(declared)) {
        lines.push(`! ${at}.${field}: running ${show(actual)}, declared ${show(declared)}`);
      }
    };
    compare('essential', n.essential, wired.essential);
    compare('stopTimeout', n.stopTimeout, wired.stopTimeoutSeconds);
    compare('cpu', n.cpu, wired.cpuUnits);
    compare('memory', c.memory ?? null, wired.memoryLimitMiB);
    compare(
      'containerPort',
      c.portMappings?.[0]?.containerPort ?? null,
      wired.port?.exposed ? wired.port.number : null,
    );
    const names = new Set([
      ...(c.environment ?? []).map((e) => e.name),
      ...(c.secrets ?? []).map((s) => s.name),
    ]);
    const declared = Object.keys(wired.environment);
    const missing = declared.filter((name) => !names.has(name)).sort();
    const extra = [...names].filter((name): name is string => !!name && !declared.includes(name)).sort();
    if (missing.length > 0) lines.push(`! ${at}.environment: declared, not running: ${missing.join(', ')}`);
    if (extra.length > 0) lines.push(`! ${at}.environment: running, not declared: ${extra.join(', ')}`);
  }
  for (const name of byName.keys()) {
    if (!task.containers.some((c) => c.name === name))
      lines.push(`! containerDefinitions[${name}]: running, not declared`);
  }
  return lines;
}
