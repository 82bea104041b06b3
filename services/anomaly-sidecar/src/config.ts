import { z } from 'zod';
import { PREDICTION_LIMITS } from '../../../contracts/prediction.ts';
import { type EnvIssue, envInt } from '../../../runtime/process.ts';
import { SIDECAR_ENV, SIDECAR_PORT } from '../contract.ts';

/**
 * The sidecar's configuration, read once from the environment at start-up and validated with zod:
 * a wrong value stops the process with every problem named, instead of surfacing later as odd behaviour.
 */

const int = (min: number, max: number, fallback: number) => envInt(min, max).default(fallback);
const name = z.string().trim().min(1).max(256);

export const SidecarConfigSchema = z
  .object({
    port: int(0, 65535, SIDECAR_PORT),
    host: z.string().min(1).default('127.0.0.1'),
    // Secret: never logged, never in an error message (zod reports the length only).
    intakeToken: z.string().trim().min(32).max(256),
    serviceName: name,
    clusterName: name.default('local'),
    endpointName: name,
    endpointUrl: z.url({ protocol: /^https?$/ }).optional(),
    anomalyThreshold: z.coerce.number().min(0).max(1).optional(),
    revision: z.string().trim().min(1).max(64).optional(),
    logGroupName: z.string().min(1).max(PREDICTION_LIMITS.maxNameChars).optional(),
    batchMaxRecords: int(1, PREDICTION_LIMITS.maxBatch, 500),
    // Characters of log text per call; JSON framing roughly doubles small lines, so 2 MiB keeps a call
    // well below SageMaker's 6 MB payload limit and the prediction contract's 5 MiB body limit.
    batchMaxBytes: int(1024, 2 * 1024 * 1024, 1024 * 1024),
    batchMaxAgeMs: int(1, 60_000, 1000),
    queueMaxRecords: int(1, 1_000_000, 20_000),
    queueMaxBytes: int(1024, 256 * 1024 * 1024, 16 * 1024 * 1024),
    maxBodyBytes: int(1024, 64 * 1024 * 1024, 8 * 1024 * 1024),
    intakeMaxBufferedBytes: int(64 * 1024, 256 * 1024 * 1024, 16 * 1024 * 1024),
    maxLineChars: int(1, PREDICTION_LIMITS.maxMessageChars, PREDICTION_LIMITS.maxMessageChars),
    endpointTimeoutMs: int(10, 60_000, 2000),
    scoringConcurrency: int(1, 16, 2),
    retryMaxAttempts: int(1, 10, 3),
    retryBaseMs: int(1, 60_000, 100),
    retryMaxMs: int(1, 60_000, 2000),
    breakerFailureThreshold: int(1, 1000, 5),
    breakerOpenMs: int(10, 600_000, 2000),
    emfIntervalSeconds: int(1, 3600, 60),
    anomalyRecordsPerSecond: int(0, 100_000, 200),
    anomalyHistory: int(1, 10_000, 500),
    shutdownGraceMs: int(0, 120_000, 3000),
  })
  .refine((c) => c.retryBaseMs <= c.retryMaxMs, {
    path: ['retryBaseMs'],
    message: 'must not exceed retryMaxMs',
  })
  .refine((c) => c.batchMaxRecords <= c.queueMaxRecords, {
    path: ['batchMaxRecords'],
    message: 'must not exceed queueMaxRecords',
  });

export type SidecarConfig = z.infer<typeof SidecarConfigSchema>;

/** Aliases the local runtime (platform/local/plan.ts) already sets for every process that scores. */
const ALIASES: Readonly<Record<string, string>> = {
  [SIDECAR_ENV.endpointName]: 'MODEL_ENDPOINT_NAME',
  [SIDECAR_ENV.endpointUrl]: 'MODEL_ENDPOINT_URL',
};

/** Thrown when the environment does not describe a valid sidecar; the message lists every problem. */
export class ConfigError extends Error {
  constructor(
    readonly problems: readonly string[],
    /** The same problems by variable, as the start-up failure line reports them. */
    readonly issues: readonly EnvIssue[] = [],
  ) {
    super(`invalid anomaly sidecar configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the configuration. Problems are reported by variable name (`BATCH_MAX_RECORDS:
 * Too big: expected number to be <=5000`), since that is what the operator sets.
 *
 * @example
 * const config = loadConfig(process.env);
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): SidecarConfig {
  const raw: Record<string, string> = {};
  const problems: string[] = [];
  const issues: EnvIssue[] = [];
  for (const [key, variable] of Object.entries(SIDECAR_ENV)) {
    const value = nonEmpty(env[variable]);
    const aliasName = ALIASES[variable];
    const alias = aliasName ? nonEmpty(env[aliasName]) : undefined;
    if (value !== undefined && alias !== undefined && value !== alias) {
      problems.push(`${variable} ('${value}') and its alias ${aliasName} ('${alias}') disagree; set one`);
      issues.push({ variable, message: `disagrees with its alias ${aliasName}; set one` });
    }
    const chosen = value ?? alias;
    if (chosen !== undefined) raw[key] = chosen;
  }
  const parsed = SidecarConfigSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      const variable = SIDECAR_ENV[key as keyof typeof SIDECAR_ENV] ?? key;
      problems.push(`${variable}: ${issue.message}`);
      issues.push({ variable, message: issue.message });
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems, issues);
  return parsed.data;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
