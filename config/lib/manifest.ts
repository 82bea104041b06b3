import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MAX_BUDGET } from '../../contracts/alert-budget.ts';
import { ENVIRONMENT_NAME } from './environments.ts';

/**
 * The platform manifest: what `app.synth()` produces and the only thing the AWS renderer and the local
 * runtime read. It is plain JSON with every default applied, so a renderer never re-derives one.
 */
export const MANIFEST_VERSION = 1;

const name = z.string().regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/);
const port = z.number().int().min(1).max(65535);

/** How an image runs, as declared; absent: the image's own settings. */
export const ImageRunSchema = z.strictObject({
  command: z.array(z.string().min(1)).min(1).nullable(),
  entrypoint: z.array(z.string().min(1)).min(1).nullable(),
  user: z.string().min(1).nullable(),
  /** A fixed port the image listens on whatever PORT says (the service's port is it). */
  port: port.nullable(),
  /** tmpfs mounts: the only writable paths under a read-only root filesystem. */
  writablePaths: z.array(z.string().startsWith('/')),
});

export const ImageSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('dockerfile'),
    dockerfile: z.string().min(1),
    /** The build context, relative to the repository. */
    context: z.string().min(1),
    /** A TypeScript or JavaScript entry the local runtime starts directly; null: what the image runs. */
    entry: z.string().min(1).nullable(),
    /** `platform`: the paths are relative to this package (the console's images); absent: the team's repository. */
    source: z.literal('platform').optional(),
    run: ImageRunSchema.optional(),
  }),
  z.strictObject({ kind: z.literal('registry'), uri: z.string().min(1), run: ImageRunSchema.optional() }),
]);

export const SecretSpecSchema = z.discriminatedUnion('source', [
  z.strictObject({
    source: z.literal('secretsmanager'),
    secretName: z.string().min(1),
    field: z.string().min(1).optional(),
  }),
  z.strictObject({ source: z.literal('ssm'), parameterName: z.string().min(1) }),
]);

export const HealthCheckSchema = z.strictObject({
  path: z.string().startsWith('/'),
  intervalSeconds: z.number().int(),
  timeoutSeconds: z.number().int(),
  healthyThreshold: z.number().int(),
  unhealthyThreshold: z.number().int(),
  startPeriodSeconds: z.number().int(),
});

export const ScalingSchema = z.strictObject({
  minTasks: z.number().int().min(1),
  maxTasks: z.number().int().min(1),
  targetCpuPercent: z.number().int().min(10).max(90),
  scaleInCooldownSeconds: z.number().int().min(0),
  scaleOutCooldownSeconds: z.number().int().min(0),
});

export const AnomalySettingsSchema = z.strictObject({
  enabled: z.boolean(),
  /** The alert budget: the share of normal lines flagged; its score is the threshold (contracts/alert-budget.ts). */
  budget: z.number().gt(0).max(MAX_BUDGET),
  /** Score at or above which a line is anomalous, overriding the budget; null: the budget's score. */
  threshold: z.number().min(0).max(1).nullable(),
  sidecar: z.strictObject({ cpuUnits: z.number().int(), memoryMiB: z.number().int() }),
});

/** How the deployment gate judges a new revision: its probe paths and its scorer-outage policy. */
const judgement = {
  probes: z.array(z.string().startsWith('/')).min(1).max(10),
  onScorerOutage: z.enum(['roll-back', 'judge-on-errors']),
};

export const DeploymentSchema = z.discriminatedUnion('strategy', [
  z.strictObject({ strategy: z.literal('rolling'), ...judgement }),
  z.strictObject({
    strategy: z.literal('canary'),
    percent: z.number(),
    bakeMinutes: z.number().int(),
    ...judgement,
  }),
  z.strictObject({
    strategy: z.literal('linear'),
    stepPercent: z.number(),
    stepMinutes: z.number().int(),
    ...judgement,
  }),
  z.strictObject({ strategy: z.literal('blue-green'), bakeMinutes: z.number().int(), ...judgement }),
]);

export const ApprovalSchema = z.strictObject({
  stage: z.enum(['POST_TEST_TRAFFIC_SHIFT', 'POST_PRODUCTION_TRAFFIC_SHIFT']),
  timeoutMinutes: z.number().int().min(1).max(20160),
  onTimeout: z.enum(['roll-back', 'continue']),
});

export const RollbackAlarmSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('anomaly-rate'), percent: z.number() }),
  z.strictObject({ kind: z.literal('error-rate'), percent: z.number() }),
  z.strictObject({ kind: z.literal('unhealthy-targets') }),
]);

export const ServiceSchema = z.strictObject({
  name,
  /** The construct path that declared it, for error messages downstream. */
  path: z.string(),
  kind: z.enum(['web', 'internal']),
  image: ImageSpecSchema,
  port,
  cpuUnits: z.number().int(),
  memoryMiB: z.number().int(),
  healthCheck: HealthCheckSchema,
  scaling: ScalingSchema,
  stopTimeoutSeconds: z.number().int().min(2).max(120),
  environment: z.record(z.string(), z.string()),
  secrets: z.record(z.string(), SecretSpecSchema),
  /** Services this one calls. */
  talksTo: z.array(name),
  /** Services allowed to call this one (derived from every `talksTo`); the only ingress of an internal service. */
  reachableFrom: z.array(name),
  /** ALB listener-rule path patterns; web services only, empty for internal ones. */
  paths: z.array(z.string()),
  /** Listener-rule priority, derived from declaration order; 0 for the default rule and internal services. */
  priority: z.number().int().min(0),
  anomaly: AnomalySettingsSchema,
  /** What the service may read of the platform (e.g. the anomaly data, for a console). */
  platformAccess: z.strictObject({ readAnomalies: z.boolean(), invokeModel: z.boolean() }),
  /** How new revisions roll out, and the alarms that roll them back. */
  deployment: DeploymentSchema,
  /** A pause in every release until a person answers `deploy continue` / `abort`; null: none. */
  approval: ApprovalSchema.nullable(),
  rollbackOn: z.array(RollbackAlarmSchema),
  /** Web services only: reachable without signing in (the ALB forwards without an authenticate action). */
  public: z.boolean(),
  /** How the local runtime starts it instead of its image: a declared command (any language), or null. */
  local: z.strictObject({ command: z.array(z.string().min(1)).min(1) }).nullable(),
});

/** A worker: a service that takes no connections (no port, no routes, no callers), deployed rolling. */
export const WorkerSchema = z.strictObject({
  name,
  path: z.string(),
  image: ImageSpecSchema,
  cpuUnits: z.number().int(),
  memoryMiB: z.number().int(),
  /** A command in the container (exit 0 is healthy), or null: healthy while the process runs. */
  healthCheck: z.strictObject({
    command: z.array(z.string().min(1)).min(1).nullable(),
    intervalSeconds: z.number().int(),
    timeoutSeconds: z.number().int(),
    retries: z.number().int(),
    startPeriodSeconds: z.number().int(),
  }),
  scaling: ScalingSchema,
  stopTimeoutSeconds: z.number().int().min(2).max(120),
  environment: z.record(z.string(), z.string()),
  secrets: z.record(z.string(), SecretSpecSchema),
  talksTo: z.array(name),
  anomaly: AnomalySettingsSchema,
  /** Only the anomaly rate: a worker answers no requests. */
  rollbackOn: z.array(z.strictObject({ kind: z.literal('anomaly-rate'), percent: z.number() })),
});

const cronList = z.array(z.number().int());

/** A scheduled job: a container run to completion by EventBridge Scheduler. */
export const JobSchema = z.strictObject({
  name,
  path: z.string(),
  image: ImageSpecSchema,
  /** EventBridge Scheduler's expression (`cron(…)`, `rate(…)`) and, for a cron, its parsed fields. */
  schedule: z.strictObject({
    expression: z.string().regex(/^(cron|rate)\(.+\)$/),
    cron: z
      .strictObject({
        minutes: cronList,
        hours: cronList,
        dayOfMonth: z
          .strictObject({
            days: cronList,
            last: z.boolean(),
            lastWeekday: z.boolean(),
            nearestWeekday: cronList,
          })
          .nullable(),
        months: cronList,
        dayOfWeek: z
          .strictObject({
            days: cronList,
            lastOfMonth: cronList,
            nth: z.array(z.strictObject({ day: z.number().int(), n: z.number().int() })),
          })
          .nullable(),
        years: cronList.nullable(),
      })
      .nullable(),
    /** A rate's period in minutes (null for a cron). */
    everyMinutes: z.number().int().min(1).nullable(),
  }),
  timeZone: z.string().min(1),
  timeoutSeconds: z.number().int().min(1).max(86_400),
  retries: z.number().int().min(0).max(185),
  allowOverlap: z.boolean(),
  cpuUnits: z.number().int(),
  memoryMiB: z.number().int(),
  environment: z.record(z.string(), z.string()),
  secrets: z.record(z.string(), SecretSpecSchema),
  talksTo: z.array(name),
  anomaly: AnomalySettingsSchema,
});

export const ModelEndpointSchema = z.strictObject({
  name,
  path: z.string(),
  image: ImageSpecSchema,
  /** Model artifact directory (packed into model.tar.gz for SageMaker), relative to where `source` says. */
  artifactDir: z.string().min(1),
  /** The alert budget of the instance logs the log-scorer scores, and every service's default. */
  budget: z.number().gt(0).max(MAX_BUDGET),
  /**
   * Whose files the image and the artifacts are: `platform`, the model this package ships (paths
   * relative to the package); `repository`, the team's own (paths relative to its repository).
   */
  source: z.enum(['platform', 'repository']),
  instanceType: z.string().regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/),
  instanceCount: z.number().int().min(1),
  /** Clients of the prediction API: one API key and usage plan each. */
  apiClients: z
    .array(
      z.strictObject({
        name,
        rateLimitPerSecond: z.number().int().min(1),
        burstLimit: z.number().int().min(1),
        dailyQuota: z.number().int().min(1),
      }),
    )
    .min(1),
});

export const PlatformSchema = z.strictObject({
  name,
  network: z.strictObject({
    cidr: z.string(),
    availabilityZones: z.number().int().min(2),
    natGateways: z.number().int().min(0),
    vpcEndpoints: z.boolean(),
    flowLogRetentionDays: z.number().int().min(1),
  }),
  capacity: z.strictObject({
    instanceTypes: z.array(z.string()).min(2),
    minInstances: z.number().int().min(1),
    maxInstances: z.number().int().min(1),
    targetCapacityPercent: z.number().int().min(1).max(100),
    rootVolumeGiB: z.number().int().min(30),
  }),
  edge: z.strictObject({
    certificateArn: z.string().nullable(),
    domainName: z.string().nullable(),
    auth: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('cognito') }),
      z.strictObject({
        kind: z.literal('oidc'),
        issuer: z.string().url(),
        authorizationEndpoint: z.string().url(),
        tokenEndpoint: z.string().url(),
        userInfoEndpoint: z.string().url(),
        clientId: z.string().min(1),
        clientSecretName: z.string().min(1),
      }),
    ]),
    insecureHttpOnly: z.boolean(),
    idleTimeoutSeconds: z.number().int(),
    accessLogRetentionDays: z.number().int().min(1),
  }),
  observability: z.strictObject({
    logRetentionDays: z.number().int().min(1),
    /** Addresses subscribed to the alarm topic (each confirms its subscription). */
    alarmEmails: z.array(z.string().email()),
  }),
  remediation: z.strictObject({
    dryRun: z.boolean(),
    cooldownSeconds: z.number().int().min(0),
    maxActionsPerHour: z.number().int().min(1),
  }),
  delivery: z
    .strictObject({
      githubRepository: z.string().regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/),
      branch: z.string().min(1),
      environment: z.string().min(1),
      /** The provider to import; null: the account's own, by its well-known ARN (or the one created). */
      oidcProviderArn: z.string().nullable(),
      /** The bootstrap stack creates the account's GitHub OIDC provider instead of importing it. */
      createOidcProvider: z.boolean(),
    })
    .nullable(),
  /** Account-wide settings the platform may take over (each overwrites what the account has). */
  account: z.strictObject({ apiGatewayLoggingRole: z.boolean() }),
  /** What a teardown keeps and what could stop it. */
  teardown: z.strictObject({
    loadBalancerDeletionProtection: z.boolean(),
    retainLogs: z.boolean(),
    retainUserPool: z.boolean(),
  }),
});

/** A declared environment: its name (part of every physical name) and whether releases need approval. */
const EnvironmentSchema = z.strictObject({
  name: z.string().regex(ENVIRONMENT_NAME),
  protected: z.boolean(),
});

export const ManifestSchema = z.strictObject({
  version: z.literal(MANIFEST_VERSION),
  /** The environment this manifest renders, its overrides applied; null: the shared declaration (and `start`'s local one). */
  environment: EnvironmentSchema.nullable().default(null),
  /** Every declared environment, in promotion order. */
  environments: z.array(EnvironmentSchema).default([]),
  platform: PlatformSchema,
  model: ModelEndpointSchema.nullable(),
  services: z.array(ServiceSchema).min(1),
  workers: z.array(WorkerSchema).default([]),
  jobs: z.array(JobSchema).default([]),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type ServiceManifest = z.infer<typeof ServiceSchema>;
export type WorkerManifest = z.infer<typeof WorkerSchema>;
export type JobManifest = z.infer<typeof JobSchema>;
export type PlatformManifest = z.infer<typeof PlatformSchema>;
export type EnvironmentManifest = z.infer<typeof EnvironmentSchema>;
export type ModelEndpointManifest = z.infer<typeof ModelEndpointSchema>;
export type ImageManifest = z.infer<typeof ImageSpecSchema>;
export type SecretManifest = z.infer<typeof SecretSpecSchema>;
export type DeploymentManifest = z.infer<typeof DeploymentSchema>;
/** A deployment's strategy alone (what ECS is told), without the gate's judgement settings. */
export type DeploymentStrategyManifest = DeploymentManifest extends infer D
  ? D extends DeploymentManifest
    ? Omit<D, 'probes' | 'onScorerOutage'>
    : never
  : never;
export type RollbackAlarmManifest = z.infer<typeof RollbackAlarmSchema>;
export type ApprovalManifest = z.infer<typeof ApprovalSchema>;

/** Validates a manifest object (e.g. read back from `cdk.out/manifest.json`). */
export function parseManifest(value: unknown): Manifest {
  const parsed = ManifestSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid platform manifest:\n- ${issues.join('\n- ')}`);
  }
  return parsed.data;
}

/** Reads and validates a manifest file. */
export function loadManifest(file: string): Manifest {
  return parseManifest(JSON.parse(readFileSync(file, 'utf8')));
}
