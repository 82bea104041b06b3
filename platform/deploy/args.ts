import { parseArgs } from 'node:util';

/** Process exit codes of `npm run deploy`; CI can tell a rollback from a timeout from a typo. */
export const EXIT_CODES = {
  /** The command did what it was asked (rolled out, rolled back on request, waited until, …). */
  ok: 0,
  /** A rollout rolled back or failed, a service was not found, or AWS refused a call; the reason is printed. */
  failed: 1,
  /** Bad or missing arguments. */
  usage: 2,
  /** The awaited state was not reached within `--timeout`; ECS keeps going, the command stopped waiting. */
  timeout: 124,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export const USAGE = `Usage: berth <command> [options]   (deploy's own: berth deploy continue|abort|seed)

Services, containers, the cluster and image names come from the declaration through the wiring
model; services are handled callees first, and scheduled jobs get a new revision their schedule runs.

Commands:
  deploy    --image NAME=REF ...   register a revision with the new images for every service whose
                                   containers run them, update it, and follow each lifecycle stage
  diff      --image NAME=REF ...   running task definition vs the one deploy would register (API
                                   defaults filled in), and drift from the declaration; jobs too
  status                           running/desired/pending, the current deployment and its stage;
                                   each scheduled job's revision its next run starts
  rollback                         roll back the deployment in progress (StopServiceDeployment)
  wait      --until stable|deployed|<STAGE>
                                   wait until services are stable, the deployment is done, or it
                                   reached a lifecycle stage (e.g. POST_TEST_TRAFFIC_SHIFT)
  continue                         resume a deployment paused by a pause hook
  abort                            roll back a deployment paused by a pause hook
  seed      --image NAME=REF ...   record these images as released where no release is recorded
                                   yet (before the platform stack's first cdk deploy)

Options:
  --image NAME=REF          NAME is an image of the declaration (berth images --dry-run lists them);
                            REF is REPO:TAG or REPO@sha256:<64 hex>. Repeat for more images.
  --service NAME            only this declared service (repeat for more; default: every one concerned)
  --timeout DURATION        how long to follow or wait, e.g. 900, 90s, 15m, 1h (default: 15m)
  --poll-interval DURATION  how often to read ECS while following (default: 10s, minimum 1s)
  --no-wait                 rollback, continue, abort: return once ECS accepted the request
  --region REGION           AWS region (default: from the environment, e.g. AWS_REGION)
  --env NAME                the declaration's environment (berth --env: the entry derives the
                            wiring for it; default: the first declared, stderr says which)
  --dry-run                 deploy: print the plan; register and update nothing
  -h, --help                print this help

Exit codes: 0 done, 1 rolled back or failed (reason printed), 2 usage error, 124 timed out.

Example:
  berth deploy --image backend=1234.dkr.ecr.eu-west-1.amazonaws.com/acme/backend@sha256:<digest> \\
    --image sidecar=1234.dkr.ecr.eu-west-1.amazonaws.com/acme/sidecar@sha256:<digest>`;

/** Lifecycle stages of an ECS service deployment, in the order a deployment passes them. */
export const LIFECYCLE_STAGES = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
  'BAKE_TIME',
  'CLEAN_UP',
] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** What `wait --until` waits for. */
export type WaitTarget =
  | { readonly kind: 'stable' }
  | { readonly kind: 'deployed' }
  | { readonly kind: 'stage'; readonly stage: LifecycleStage };

interface Common {
  /** Declared services named with `--service`; empty means every service concerned. */
  readonly services: readonly string[];
  readonly region?: string;
}
interface Following {
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
}

/** One parsed command line. */
export type Command =
  | (Common &
      Following & {
        readonly name: 'deploy';
        /** Image name → reference, in the order given. */
        readonly images: ReadonlyMap<string, string>;
        readonly dryRun: boolean;
      })
  | (Common & { readonly name: 'diff' | 'seed'; readonly images: ReadonlyMap<string, string> })
  | (Common & { readonly name: 'status' })
  | (Common & Following & { readonly name: 'wait'; readonly until: WaitTarget })
  | (Common & Following & { readonly name: 'rollback' | 'continue' | 'abort'; readonly wait: boolean });

export type CommandName = Command['name'];

export type CliRequest = { readonly kind: 'help' } | { readonly kind: 'command'; readonly command: Command };

/** A problem with the command line; the CLI prints it with the usage and exits with {@link EXIT_CODES.usage}. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const DEFAULT_TIMEOUT_MS = 15 * 60_000;
export const DEFAULT_POLL_INTERVAL_MS = 10_000;

const COMMANDS = ['deploy', 'diff', 'status', 'rollback', 'wait', 'continue', 'abort', 'seed'] as const;
// Which options each command accepts; anything else is a usage error rather than silently ignored.
const ALLOWED: Record<CommandName, readonly string[]> = {
  deploy: ['image', 'service', 'timeout', 'poll-interval', 'region', 'dry-run'],
  diff: ['image', 'service', 'region'],
  status: ['service', 'region'],
  rollback: ['service', 'timeout', 'poll-interval', 'region', 'no-wait'],
  wait: ['until', 'service', 'timeout', 'poll-interval', 'region'],
  continue: ['service', 'timeout', 'poll-interval', 'region', 'no-wait'],
  abort: ['service', 'timeout', 'poll-interval', 'region', 'no-wait'],
  seed: ['image', 'region'],
};

// Declared names: letters, digits, hyphens, underscores (ECS service names and image names alike).
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;
// A registry reference without whitespace, optionally pinned by a sha256 digest (the only digest ECS accepts).
const IMAGE_REF = /^[^\s@]+(@sha256:[a-f0-9]{64})?$/;
const DURATION = /^(\d+)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Parses `npm run deploy -- <command> …` arguments.
 *
 * @throws UsageError naming the offending argument and the expected form.
 * @example
 * parseDeployArgs(['deploy', '--image', 'backend=repo/acme/backend:abc123']);
 * // → { kind: 'command', command: { name: 'deploy', images: Map { 'backend' => … }, services: [], … } }
 */
export function parseDeployArgs(argv: readonly string[]): CliRequest {
  let parsed: ReturnType<typeof parseRaw>;
  try {
    parsed = parseRaw(argv);
  } catch (error) {
    throw new UsageError(describeParseArgsError(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  const [name, ...extra] = positionals;
  if (name === undefined) throw new UsageError(`a command is required: ${COMMANDS.join(', ')}`);
  if (!COMMANDS.includes(name as CommandName)) {
    throw new UsageError(`unknown command '${name}'; commands: ${COMMANDS.join(', ')}`);
  }
  if (extra.length > 0)
    throw new UsageError(`unexpected argument '${extra[0]}'; every value belongs to an option`);
  const command = name as CommandName;
  for (const option of Object.keys(values)) {
    if (!ALLOWED[command].includes(option)) throw new UsageError(`'${command}' takes no --${option}`);
  }

  const services = values.service ?? [];
  for (const service of services) {
    if (!NAME.test(service)) throw new UsageError(`--service '${service}' is not a service name`);
  }
  const common: Common = {
    services: [...new Set(services)],
    ...(values.region ? { region: values.region } : {}),
  };
  const following = (): Following => {
    const timeoutMs =
      values.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration('--timeout', values.timeout);
    const pollIntervalMs =
      values['poll-interval'] === undefined
        ? DEFAULT_POLL_INTERVAL_MS
        : parseDuration('--poll-interval', values['poll-interval']);
    if (timeoutMs <= 0) throw new UsageError(`--timeout '${values.timeout}' must be greater than zero`);
    // DescribeServices shares the ECS API rate limit with the rest of the account; a floor keeps us polite.
    if (pollIntervalMs < 1000)
      throw new UsageError(`--poll-interval '${values['poll-interval']}' must be at least 1s`);
    return { timeoutMs, pollIntervalMs };
  };

  switch (command) {
    case 'deploy':
      return {
        kind: 'command',
        command: {
          name: command,
          ...common,
          ...following(),
          images: parseImages(values.image),
          dryRun: values['dry-run'] ?? false,
        },
      };
    case 'diff':
    case 'seed':
      return { kind: 'command', command: { name: command, ...common, images: parseImages(values.image) } };
    case 'status':
      return { kind: 'command', command: { name: command, ...common } };
    case 'wait':
      return {
        kind: 'command',
        command: { name: command, ...common, ...following(), until: parseUntil(values.until) },
      };
    default:
      return {
        kind: 'command',
        command: { name: command, ...common, ...following(), wait: !values['no-wait'] },
      };
  }
}

function parseRaw(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      image: { type: 'string', multiple: true },
      service: { type: 'string', multiple: true },
      until: { type: 'string' },
      timeout: { type: 'string' },
      'poll-interval': { type: 'string' },
      region: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'no-wait': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

// node:util parseArgs messages differ between Node versions; keep ours stable and short.
function describeParseArgsError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const quoted = /'([^']+)'/.exec(message ?? '')?.[1]?.replace(/ <value>$/, '') ?? '?';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option '${quoted}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return `option '${quoted}' needs a value`;
    default:
      return message ?? String(error);
  }
}

function parseImages(specs: readonly string[] | undefined): Map<string, string> {
  if (!specs || specs.length === 0) throw new UsageError('at least one --image NAME=REF is required');
  const images = new Map<string, string>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--image '${spec}' must be NAME=REF`);
    const name = spec.slice(0, eq);
    const ref = spec.slice(eq + 1);
    if (!NAME.test(name)) throw new UsageError(`--image '${spec}': '${name}' is not an image name`);
    if (!IMAGE_REF.test(ref)) {
      throw new UsageError(
        `--image '${spec}': '${ref}' must be REPO:TAG or REPO@sha256:<64 lowercase hex digits>`,
      );
    }
    if (images.has(name)) throw new UsageError(`--image '${spec}': image '${name}' is given twice`);
    images.set(name, ref);
  }
  return images;
}

function parseUntil(text: string | undefined): WaitTarget {
  if (text === undefined)
    throw new UsageError(`--until is required: stable, deployed or a stage (${LIFECYCLE_STAGES.join(', ')})`);
  if (text === 'stable' || text === 'deployed') return { kind: text };
  const stage = text.toUpperCase();
  if (LIFECYCLE_STAGES.includes(stage as LifecycleStage))
    return { kind: 'stage', stage: stage as LifecycleStage };
  throw new UsageError(
    `--until '${text}' must be stable, deployed or a stage (${LIFECYCLE_STAGES.join(', ')})`,
  );
}

function parseDuration(flag: string, text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new UsageError(`${flag} '${text}' must be a duration such as 900, 90s, 15m or 1h`);
  const unit = (match[2] ?? 's') as keyof typeof UNIT_MS;
  return Number(match[1]) * UNIT_MS[unit];
}

/** `125000` → `2m5s`, `400` → `400ms`: durations in messages read the way they were typed. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const totalSeconds = Math.round(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
