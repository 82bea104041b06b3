import { z } from 'zod';
import { JobDirectorySchema } from '../../../contracts/job-runs.ts';
import {
  type ServiceDirectoryEntry,
  ServiceDirectoryEntrySchema,
  ServiceDirectorySchema,
} from '../../../contracts/service-directory.ts';
import { envInt, presentValues } from '../../../runtime/process.ts';

/**
 * The backend's environment contract (documented in ../README.md). Parsed once at start-up by
 * `main.ts`; a bad value stops the process with every issue listed, instead of failing on first use.
 */

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** One declared service the console shows (the platform's service directory, contracts/service-directory.ts). */
export const ServiceTargetSchema = ServiceDirectoryEntrySchema;
export type ServiceTarget = ServiceDirectoryEntry;

/** A variable holding a JSON array (the platform's directories), `[]` when unset, checked by `schema`. */
function jsonList<S extends z.ZodType>(schema: S, what: string) {
  return z
    .string()
    .default('[]')
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be a JSON array of ${what}` });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

const flag = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');

export const BackendEnvSchema = z
  .object({
    PORT: envInt(0, 65535).default(8081),
    HOST: z.string().min(1).default('0.0.0.0'),
    SERVICES: jsonList(ServiceDirectorySchema, 'services'),
    /** The platform's scheduled jobs (contracts/job-runs.ts `JobDirectorySchema`). */
    JOBS: jsonList(JobDirectorySchema, 'jobs'),
    ANOMALY_SOURCE: z.enum(['local', 'cloudwatch']).default('local'),
    ANOMALY_LOG_GROUP: z.string().min(1).max(512).optional(),
    ANOMALY_LOOKBACK_MINUTES: envInt(1, 1440).default(60),
    MODEL_ENDPOINT_NAME: z.string().min(1).max(63).optional(),
    MODEL_ENDPOINT_URL: httpUrl.optional(),
    MODEL_TIMEOUT_MS: envInt(100, 60_000).default(2000),
    UPSTREAM_TIMEOUT_MS: envInt(100, 60_000).default(1500),
    FAULTS_ENABLED: flag.default(false),
    /** A bad release on purpose: this share of `/api` requests fails from the start (with FAULTS_ENABLED). */
    FAULT_ERROR_RATE: z.coerce.number().min(0).max(1).default(0),
    OPERATIONS_SOURCE: z.enum(['local', 'aws']).default('local'),
    ECS_CLUSTER: z.string().min(1).max(255).optional(),
    ALARM_NAME_PREFIX: z.string().min(1).max(255).optional(),
    REMEDIATION_TABLE: z.string().min(3).max(255).optional(),
    REMEDIATION_COOLDOWN_SECONDS: envInt(0, 86_400).default(600),
    REMEDIATION_MAX_ACTIONS_PER_WINDOW: envInt(1, 10_000).default(6),
    REMEDIATION_WINDOW_SECONDS: envInt(60, 86_400).default(3600),
    /** The deployment gate's log group: its decisions in the deployments view (AWS). */
    GATE_LOG_GROUP: z.string().min(1).max(512).optional(),
    DEPLOYMENTS_STATE_FILE: z.string().min(1).optional(),
    PROCESSES_STATE_FILE: z.string().min(1).optional(),
    JOBS_STATE_FILE: z.string().min(1).optional(),
    HEALTH_INTERVAL_MS: envInt(250, 600_000).default(5000),
    ANOMALY_POLL_MS: envInt(100, 600_000).optional(),
  })
  .refine((env) => env.FAULT_ERROR_RATE === 0 || env.FAULTS_ENABLED, {
    path: ['FAULT_ERROR_RATE'],
    message: 'needs FAULTS_ENABLED=1 (the fault switch is off on AWS)',
  })
  .refine((env) => env.ANOMALY_SOURCE !== 'cloudwatch' || env.ANOMALY_LOG_GROUP !== undefined, {
    path: ['ANOMALY_LOG_GROUP'],
    message: 'is required when ANOMALY_SOURCE=cloudwatch',
  })
  .refine((env) => env.OPERATIONS_SOURCE !== 'aws' || env.ECS_CLUSTER !== undefined, {
    path: ['ECS_CLUSTER'],
    message: 'is required when OPERATIONS_SOURCE=aws',
  });
export type BackendEnv = z.infer<typeof BackendEnvSchema>;

/**
 * Parses the environment; empty strings count as unset, so `FOO=` in a task definition means the
 * default rather than an invalid value.
 *
 * @example
 * const env = parseBackendEnv(process.env);
 */
export function parseBackendEnv(source: Record<string, string | undefined>): BackendEnv {
  const present = presentValues(source);
  return BackendEnvSchema.parse(present);
}
