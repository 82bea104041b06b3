import { parseArgs } from 'node:util';

/** Process exit codes of `npm run deploy`; CI can tell a rollback from a timeout from a typo. */
export const EXIT_CODES = {
  /** Every service rolled out (or, with `--dry-run`, the plan was printed). */
  ok: 0,
  /** A rollout failed (circuit breaker rolled back), a service or container was not found, or AWS refused a call. */
  failed: 1,
  /** Bad or missing arguments. */
  usage: 2,
  /** A rollout did not reach COMPLETED within `--timeout`; ECS keeps going, the command stopped waiting. */
  timeout: 124,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export const USAGE = `Usage: npm run deploy -- --cluster CLUSTER --service NAME[:CONTAINER]=IMAGE [--service ...] [options]

Registers a task-definition revision with the new image(s) for each service, updates the service,
and follows the rollout until ECS reports it COMPLETED.

Required:
  --cluster NAME            ECS cluster name or ARN
  --service SPEC            NAME=IMAGE or NAME:CONTAINER=IMAGE; repeat for more services or containers.
                            IMAGE is REPO:TAG or REPO@sha256:<64 hex> (a digest pins exactly what was built)

Options:
  --container NAME          container to update when SPEC names none (default: the service name)
  --timeout DURATION        how long to wait for each rollout, e.g. 900, 90s, 15m, 1h (default: 15m)
  --poll-interval DURATION  how often to read the service while waiting (default: 10s, minimum 1s)
  --region REGION           AWS region (default: from the environment, e.g. AWS_REGION)
  --dry-run                 read the services and print the plan; register and update nothing
  -h, --help                print this help

Exit codes: 0 rolled out, 1 failed or rolled back, 2 usage error, 124 timed out.

Example:
  npm run deploy -- --cluster acme --service backend=1234.dkr.ecr.eu-west-1.amazonaws.com/acme/backend@sha256:<digest> \\
    --service backend:anomaly-sidecar=1234.dkr.ecr.eu-west-1.amazonaws.com/acme/sidecar@sha256:<digest>`;

/** One container image to roll out. */
export interface ImageUpdate {
  readonly container: string;
  readonly image: string;
}

/** What to deploy to one ECS service: one task-definition revision carrying every listed image. */
export interface ServiceTarget {
  readonly service: string;
  readonly images: readonly ImageUpdate[];
}

/** Validated options of one deploy run. */
export interface DeployOptions {
  readonly cluster: string;
  /** In the order first given on the command line; rolled out one after another in that order. */
  readonly services: readonly ServiceTarget[];
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  readonly dryRun: boolean;
  readonly region?: string;
}

export type CliRequest =
  | { readonly kind: 'help' }
  | { readonly kind: 'deploy'; readonly options: DeployOptions };

/** A problem with the command line; the CLI prints it with the usage and exits with {@link EXIT_CODES.usage}. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const DEFAULT_TIMEOUT_MS = 15 * 60_000;
export const DEFAULT_POLL_INTERVAL_MS = 10_000;

// ECS service and container names: letters, digits, hyphens, underscores; up to 255 characters.
const ECS_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;
// A registry reference without whitespace, optionally pinned by a sha256 digest (the only digest ECS accepts).
const IMAGE = /^[^\s@]+(@sha256:[a-f0-9]{64})?$/;
const DURATION = /^(\d+)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Parses `npm run deploy -- …` arguments.
 *
 * @throws UsageError naming the offending argument and the expected form.
 * @example
 * parseDeployArgs(['--cluster', 'acme', '--service', 'backend=repo/backend:abc123']);
 * // → { kind: 'deploy', options: { cluster: 'acme', services: [{ service: 'backend', images: [...] }], ... } }
 */
export function parseDeployArgs(argv: readonly string[]): CliRequest {
  let values: ReturnType<typeof parseRaw>['values'];
  try {
    values = parseRaw(argv).values;
  } catch (error) {
    throw new UsageError(describeParseArgsError(error));
  }
  if (values.help) return { kind: 'help' };

  const cluster = values.cluster;
  if (cluster === undefined || cluster.trim() === '') throw new UsageError('--cluster is required');
  const specs = values.service ?? [];
  if (specs.length === 0) throw new UsageError('at least one --service NAME=IMAGE is required');

  const defaultContainer = values.container;
  if (defaultContainer !== undefined && !ECS_NAME.test(defaultContainer)) {
    throw new UsageError(`--container '${defaultContainer}' is not a valid container name`);
  }

  const byService = new Map<string, ImageUpdate[]>();
  for (const spec of specs) {
    const { service, container, image } = parseServiceSpec(spec, defaultContainer);
    const images = byService.get(service) ?? [];
    if (images.some((i) => i.container === container)) {
      throw new UsageError(`--service '${spec}': container '${container}' of '${service}' is given twice`);
    }
    images.push({ container, image });
    byService.set(service, images);
  }

  const timeoutMs =
    values.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration('--timeout', values.timeout);
  const pollIntervalMs =
    values['poll-interval'] === undefined
      ? DEFAULT_POLL_INTERVAL_MS
      : parseDuration('--poll-interval', values['poll-interval']);
  if (timeoutMs <= 0) throw new UsageError(`--timeout '${values.timeout}' must be greater than zero`);
  // DescribeServices shares the ECS API rate limit with the rest of the account; a floor keeps us polite.
  if (pollIntervalMs < 1000) {
    throw new UsageError(`--poll-interval '${values['poll-interval']}' must be at least 1s`);
  }

  return {
    kind: 'deploy',
    options: {
      cluster,
      services: [...byService].map(([service, images]) => ({ service, images })),
      timeoutMs,
      pollIntervalMs,
      dryRun: values['dry-run'] ?? false,
      ...(values.region ? { region: values.region } : {}),
    },
  };
}

function parseRaw(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      cluster: { type: 'string' },
      service: { type: 'string', multiple: true },
      container: { type: 'string' },
      timeout: { type: 'string' },
      'poll-interval': { type: 'string' },
      region: { type: 'string' },
      'dry-run': { type: 'boolean' },
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
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument '${quoted}'; every value belongs to an option`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return `option '${quoted}' needs a value`;
    default:
      return message ?? String(error);
  }
}

function parseServiceSpec(
  spec: string,
  defaultContainer: string | undefined,
): { service: string; container: string; image: string } {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) {
    throw new UsageError(`--service '${spec}' must be NAME=IMAGE or NAME:CONTAINER=IMAGE`);
  }
  const target = spec.slice(0, eq);
  const image = spec.slice(eq + 1);
  const [service = '', container, ...rest] = target.split(':');
  if (rest.length > 0 || !ECS_NAME.test(service) || (container !== undefined && !ECS_NAME.test(container))) {
    throw new UsageError(
      `--service '${spec}': '${target}' must be a service name, optionally followed by :CONTAINER`,
    );
  }
  if (!IMAGE.test(image)) {
    throw new UsageError(
      `--service '${spec}': image '${image}' must be REPO:TAG or REPO@sha256:<64 lowercase hex digits>`,
    );
  }
  return { service, container: container ?? defaultContainer ?? service, image };
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
