import type {
  CronFields,
  DeploymentStrategyManifest,
  ImageManifest,
  PlatformManifest,
  RollbackAlarmManifest,
  ScorerOutagePolicy,
  SecretManifest,
} from '../../config/index.ts';

/**
 * The wiring model's vocabulary: every fact about a task that a renderer needs, with values given as
 * *sources* rather than strings. The AWS renderer turns a source into a CloudFormation token (a log
 * group's generated name, the cluster's name, a Cloud Map URL), the local runtime into a loopback
 * value. A renderer translates sources; it never adds a variable, a port, a check or a grant itself.
 */

/** Where a container's environment value comes from. */
export type ValueSource =
  /** The same string everywhere (declared `environment`, contract constants). */
  | { readonly kind: 'literal'; readonly value: string }
  /** A declared secret: an ECS `secrets` reference on AWS, the caller's environment locally. */
  | { readonly kind: 'secret'; readonly secret: SecretManifest }
  /** The port the container listens on. */
  | { readonly kind: 'listen-port' }
  /**
   * The address the container binds: `task` is reachable only inside the task (127.0.0.1 on AWS,
   * awsvpc tasks share localhost); `network` from the VPC (0.0.0.0 on AWS). Locally always 127.0.0.1.
   */
  | { readonly kind: 'listen-host'; readonly scope: 'task' | 'network' }
  /** The base URL of a service this one `talksTo`. */
  | { readonly kind: 'callee-url'; readonly service: string }
  /** The model endpoint's name (SageMaker endpoint on AWS, the local endpoint's name locally). */
  | { readonly kind: 'model-endpoint-name' }
  /** A platform log group's name. `app` is the service's own application log group. */
  | { readonly kind: 'log-group'; readonly group: 'app' | 'anomaly' | 'deployment-gate' }
  /** A prefix inside a log group (the app's log streams). */
  | { readonly kind: 'log-stream-prefix' }
  /** The AWS region (`local` locally). */
  | { readonly kind: 'region' }
  /** The ECS cluster's name (the platform's name locally). */
  | { readonly kind: 'cluster-name' }
  /** The platform's service directory as JSON (contracts/service-directory.ts). */
  | { readonly kind: 'service-directory' }
  /** Where anomaly data is read: CloudWatch on AWS, the sidecars' own APIs locally. */
  | { readonly kind: 'anomaly-source' }
  /** Where deployments, alarms, remediation and capacity are read: ECS/CloudWatch/DynamoDB on AWS, the local runtime's state locally. */
  | { readonly kind: 'operations-source' }
  /** The remediation ledger's table name (DynamoDB on AWS; unused locally, where no remediation runs). */
  | { readonly kind: 'remediation-ledger' }
  /**
   * The name prefix every alarm of the platform carries (CloudFormation names an alarm
   * `<stack>-<logical id>-<suffix>`): what the console lists, and all its role may read.
   */
  | { readonly kind: 'alarm-name-prefix' }
  /**
   * The task's intake token, given to its log router and its sidecar and to nothing else in the task:
   * the router sends it with every body, the sidecar refuses a body without it. Containers of an awsvpc
   * task share localhost, so the intake port alone would let the app post its own scores. On AWS a
   * generated Secrets Manager secret of the task definition, in `secrets` (the execution role reads it;
   * the app's task role cannot); locally a random value per run and service.
   */
  | { readonly kind: 'intake-token' };

/**
 * What a container health check runs: an HTTP GET on 127.0.0.1 that must answer 2xx, or a command in
 * the container (the log router's uptime check: its image has no HTTP endpoint).
 */
export type HealthProbe =
  | { readonly kind: 'http'; readonly port: number; readonly path: string }
  /** ECS's form: `['CMD', program, …args]` or `['CMD-SHELL', script]`. */
  | { readonly kind: 'command'; readonly command: readonly string[] }
  /**
   * Healthy while the process runs (a worker without a declared command): ECS gets no container health
   * check, and a task whose essential container exits is replaced by its service.
   */
  | { readonly kind: 'process' };

/** A container health check. */
export interface HealthWiring {
  readonly probe: HealthProbe;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  /** Consecutive failures before the container is unhealthy (ECS `retries`). */
  readonly retries: number;
  /** Consecutive successes before the container counts as healthy (locally the supervisor's). */
  readonly healthyThreshold: number;
  readonly startPeriodSeconds: number;
}

/** What a container may do beyond its own task; rendered as IAM on AWS and as the variables locally. */
export type Grant =
  | { readonly kind: 'invoke-model' }
  | { readonly kind: 'read-anomalies' }
  | { readonly kind: 'read-service-state' }
  /** The deployment gate's logged decisions (the console's deployment view). */
  | { readonly kind: 'read-gate-decisions' }
  | { readonly kind: 'write-log-group'; readonly group: 'app' | 'anomaly' };

/** The role a container plays in its task. */
/**
 * The role a container plays in its task. `deadline` ends a scheduled job's run at its timeout: an
 * essential container that exits stops the whole task on ECS.
 */
export type ContainerRole = 'app' | 'sidecar' | 'log-router' | 'deadline';

/** One container of a task. */
export interface ContainerWiring {
  /** Container name in the task definition (the deploy command addresses containers by it). */
  readonly name: string;
  readonly role: ContainerRole;
  /** The image's registry name (`<platform>/<image>`): the service's own, `sidecar` or `log-router`. */
  readonly image: string;
  readonly essential: boolean;
  /** The port it listens on; `exposed` ports are mapped (reachable from outside the task). */
  readonly port: { readonly number: number; readonly exposed: boolean } | null;
  readonly environment: Readonly<Record<string, ValueSource>>;
  readonly health: HealthWiring | null;
  readonly stopTimeoutSeconds: number;
  /** Containers that must have started (FireLens: the router first) before this one. */
  readonly startAfter: readonly string[];
  readonly grants: readonly Grant[];
  /** `firelens`: stdout and stderr go through the task's log router; `own`: the router's own awslogs. */
  readonly logging: 'firelens' | 'own';
  readonly cpuUnits: number;
  readonly memoryReservationMiB: number | null;
  readonly memoryLimitMiB: number;
  /** ECS container restart policy (restart in place instead of replacing the task). */
  readonly restart: { readonly attemptResetPeriodSeconds: number } | null;
  readonly user: string | null;
  readonly readonlyRootFilesystem: boolean;
  /** Log routers: the FireLens configuration file baked into the router image. */
  readonly firelensConfigFile?: string;
  /** The command that replaces the image's own (the deadline's timer, a declared command); absent: the image's. */
  readonly command?: readonly string[];
  /** The entrypoint that replaces the image's own (declared); absent: the image's. */
  readonly entryPoint?: readonly string[];
  /** In-memory mounts, the only writable paths under the read-only root filesystem (declared). */
  readonly tmpfs?: readonly TmpfsWiring[];
}

/** A tmpfs mount: ECS's `linuxParameters.tmpfs` (EC2 launch type), a tmpfs mount locally. */
export interface TmpfsWiring {
  readonly path: string;
  /** Its size limit; it counts against the container's memory. */
  readonly sizeMiB: number;
}

/** One ALB listener rule (web services) or the listener's default action. */
export interface RouteWiring {
  readonly service: string;
  /** ALB path patterns; empty for the default (`/*`) service. */
  readonly paths: readonly string[];
  /** Evaluation order (lower first); 0 marks the default (`/*`) service, evaluated last. */
  readonly priority: number;
  /** Reachable without signing in (the service is declared `public`); locally every route is open. */
  readonly public: boolean;
}

/** A release's pause for a person: ECS's pause lifecycle hook, answered by `deploy continue` / `abort`. */
export interface PauseWiring {
  /** The lifecycle stage the release waits at. */
  readonly stage: 'POST_TEST_TRAFFIC_SHIFT' | 'POST_PRODUCTION_TRAFFIC_SHIFT';
  /** Minutes ECS waits for an answer. */
  readonly timeoutMinutes: number;
  /** What ECS does when nobody answers in time (its hook timeout action). */
  readonly onTimeout: 'ROLLBACK' | 'CONTINUE';
}

/** How a service's new revisions roll out, decided once for ECS and the local rehearsal. */
export interface DeploymentWiring {
  readonly strategy: DeploymentStrategyManifest;
  /** GET paths the gate sends the new revision through its test route while it lacks the minimum volume. */
  readonly probes: readonly string[];
  /** What the gate does when the model endpoint cannot score the new revision's lines. */
  readonly onScorerOutage: ScorerOutagePolicy;
  /** Alarms that roll the deployment back, each measured on the new revision where it can be. */
  readonly rollbackOn: readonly RollbackAlarmManifest[];
  /** The load balancer shifts traffic between two target groups (every strategy but rolling). */
  readonly shiftsTraffic: boolean;
  /**
   * The new revision takes test traffic through the platform's {@link TestRouteWiring} before any
   * user reaches it (POST_TEST_TRAFFIC_SHIFT then sees it): traffic shifts and the platform has a test route.
   */
  readonly testTraffic: boolean;
  /** Lifecycle stages at which the deployment gate compares the new revision with the old one. */
  readonly gateStages: readonly GateStage[];
  /** The declared manual approval; null when releases do not wait for a person. */
  readonly pause: PauseWiring | null;
}

/** An ECS deployment lifecycle stage the gate judges at. */
export type GateStage = 'POST_TEST_TRAFFIC_SHIFT' | 'POST_PRODUCTION_TRAFFIC_SHIFT';

/**
 * When a rollback may fire: one policy for the AWS deployment alarms, the deployment gate and the local
 * rehearsal (rollback-policy.ts gives each value its reason).
 */
export interface RollbackPolicyWiring {
  /**
   * Below these volumes of the new revision a rate decides nothing: per evaluation period for an alarm,
   * over a stage's window for the gate and the rehearsal.
   */
  readonly minimumVolume: { readonly lines: number; readonly requests: number };
  /** A rate must breach in this many consecutive evaluation periods before it rolls back. */
  readonly evaluationPeriods: number;
  /** One evaluation period of the alarms. */
  readonly periodSeconds: number;
  /** How long the gate evaluates one stage before an unjudged release fails (locally time-scaled). */
  readonly gateDeadlineSeconds: number;
  /** The stages a traffic-shifting deployment is judged at (rolling deployments have none). */
  readonly gateStages: readonly GateStage[];
}

/** Task-count autoscaling on CPU. */
export interface ScalingWiring {
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly targetCpuPercent: number;
  readonly scaleInCooldownSeconds: number;
  readonly scaleOutCooldownSeconds: number;
}

/** How the load balancer checks, admits and drains a web service's targets. */
export interface TargetGroupWiring {
  /** The entry container's port, registered with the target group. */
  readonly port: number;
  readonly health: {
    readonly path: string;
    readonly intervalSeconds: number;
    readonly timeoutSeconds: number;
    readonly healthyThreshold: number;
    readonly unhealthyThreshold: number;
    /** Answers that count as healthy. */
    readonly healthyHttpCodes: string;
  };
  /** Seconds in-flight requests still reach a deregistering target. */
  readonly deregistrationDelaySeconds: number;
  /** Seconds ECS ignores failing target health checks after a task starts. */
  readonly healthCheckGracePeriodSeconds: number;
}

/** How callers find a discoverable service: `<name>.<namespace>` on AWS, a stable loopback address locally. */
export interface DiscoveryWiring {
  readonly name: string;
  readonly port: number;
  /** How long a resolved address may be cached: callers see replaced tasks within it. */
  readonly dnsTtlSeconds: number;
}

/** What a task is: behind the ALB, called by its callers, or a worker that takes no connections. */
export type TaskKind = 'web' | 'internal' | 'worker';

/**
 * The route to a new revision before users reach it: on AWS a second ALB listener whose rules ECS
 * points at the new revision during TEST_TRAFFIC_SHIFT (one rule per traffic-shifting web service,
 * with the service's own paths), where the deployment gate sends its probes. Locally the rehearsal
 * reaches the new revision on its own port instead (declared difference `test-route`).
 */
export interface TestRouteWiring {
  /** The listener port; never the production one, so production rules and test rules never mix. */
  readonly port: number;
  /** HTTPS with the console's certificate, or HTTP where the edge is declared HTTP-only. */
  readonly protocol: 'HTTPS' | 'HTTP';
  /**
   * Who may reach it: only the platform's NAT gateways' addresses, the egress the deployment gate's
   * requests leave the VPC by (the ALB is internet-facing, so they arrive from those addresses).
   * Nobody on the internet can open the port, and nothing but the gate has egress to it.
   */
  readonly reachableFrom: 'nat-gateways';
}

/** Something a teardown (`cdk destroy`) leaves in the account on purpose, and how a person deletes it. */
export interface RetainedWiring {
  readonly what: 'log-groups' | 'access-log-bucket' | 'user-pool' | 'api-gateway-logging-role';
  readonly reason: string;
  /** What deletes it after the stacks are gone (a command to run, with the platform's names filled in). */
  readonly deleteWith: string;
}

/** What a teardown deletes, keeps, and what could stop it; in deletion order. */
export interface TeardownWiring {
  /** Stacks in the order `cdk destroy` deletes them: the platform, then the bootstrap stage. */
  readonly order: readonly string[];
  /** The ALB refuses deletion until this is turned off (declared `teardown.loadBalancerDeletionProtection`). */
  readonly loadBalancerDeletionProtection: boolean;
  /** Kept on purpose, with the reason and what deletes it afterwards. Everything else is deleted. */
  readonly retained: readonly RetainedWiring[];
}

/** One service's task and its place in the platform. */
export interface TaskWiring {
  readonly service: string;
  /** The construct path that declared it, for messages. */
  readonly path: string;
  readonly kind: TaskKind;
  /** The service's image: built from a Dockerfile (with the entry the local runtime starts), or a registry URI. */
  readonly image: ImageManifest;
  /** A declared local command that `start` runs instead of the image (never used on AWS); null when none. */
  readonly local: { readonly command: readonly string[] } | null;
  /** Task-definition family, `<platform>-<service>`. */
  readonly family: string;
  readonly containers: readonly ContainerWiring[];
  /** The container the load balancer and callers reach (a worker's app container, which listens on nothing). */
  readonly entryContainer: string;
  /** Services whose tasks may open connections to this one. */
  readonly reachableFrom: readonly string[];
  /**
   * The service's alert budget when its logs are scored: its sidecar decides by it, and the service
   * directory carries it so the console shows it beside the alert rate it observes.
   */
  readonly alertBudget?: number;
  readonly deployment: DeploymentWiring;
  /** Its Cloud Map registration; null when nothing calls it. */
  readonly discovery: DiscoveryWiring | null;
  readonly scaling: ScalingWiring;
  /** Its ALB target group (web services); null for internal services. */
  readonly targetGroup: TargetGroupWiring | null;
  /** Its logs are scored: the task has a sidecar and anomaly metrics exist. */
  readonly scored: boolean;
}

/** The answer when no listener rule matches: the platform's error shape, as JSON, on both sides. */
export interface DefaultRouteWiring {
  readonly status: 404;
  readonly contentType: 'application/json';
  readonly body: string;
}

/** The prediction function behind `POST /predict`. */
export interface PredictionWiring {
  readonly method: 'POST';
  readonly path: '/predict';
  readonly functionName: string;
  readonly environment: Readonly<Record<string, ValueSource>>;
  /** The function's own deadline; above the model call's, below API Gateway's 29 s. */
  readonly timeoutSeconds: number;
  readonly grants: readonly Grant[];
}

/** The model endpoint: the SageMaker endpoint on AWS, the SageMaker-compatible server locally. */
export interface ModelWiring {
  /** The endpoint's name (callers' `MODEL_ENDPOINT_NAME`). */
  readonly name: string;
  readonly path: string;
  /** Built from a Dockerfile; the local runtime starts its entry. */
  readonly image: { readonly dockerfile: string; readonly entry: string };
  /** The SageMaker container contract's port (locally a port chosen per run). */
  readonly port: number;
  /** The contract's health check (`GET /ping` → 200). */
  readonly health: HealthWiring;
  /** The model artifact directory (packed into model.tar.gz on AWS), relative to {@link ModelWiring.source}'s root. */
  readonly artifactDir: string;
  /** Whose files the image and artifacts are: the package's (`platform`) or the team's repository's. */
  readonly source: 'platform' | 'repository';
  /** The contract's artifact directory inside the container. */
  readonly artifactMountPath: string;
  readonly instances: { readonly type: string; readonly count: number };
  /** The endpoint's alert budget: the log-subscription scorer's, and every scored service's default. */
  readonly budget: number;
}

/** One client of the prediction API: its own key and usage plan. */
export interface ApiKeyWiring {
  readonly name: string;
  readonly rateLimitPerSecond: number;
  readonly burstLimit: number;
  readonly dailyQuota: number;
}

/** The prediction API: API Gateway REST on AWS, the local API Gateway locally. */
export interface ApiWiring {
  /** The stage clients call (`/<stage>/predict` on AWS). */
  readonly stage: string;
  readonly route: { readonly method: PredictionWiring['method']; readonly path: PredictionWiring['path'] };
  /** One key and usage plan per client. */
  readonly keys: readonly ApiKeyWiring[];
  /** Whether a request must carry a valid `x-api-key`. */
  readonly keyRequired: boolean;
  /** The JSON schema (draft 4) API Gateway validates request bodies with. */
  readonly requestSchema: Readonly<Record<string, unknown>>;
  readonly function: PredictionWiring;
  /**
   * The API creates API Gateway's account-wide CloudWatch Logs role (`AWS::ApiGateway::Account`),
   * replacing the region's (declared `account.apiGatewayLoggingRole`); otherwise the region's existing
   * role writes the access and execution logs.
   */
  readonly createsAccountLoggingRole: boolean;
}

/**
 * One service of the platform's service directory (contracts/service-directory.ts), its fields as
 * sources: the AWS renderer gives its ECS service, the local runtime its address and sidecars.
 */
export interface DirectoryEntryWiring {
  readonly name: string;
  readonly kind: TaskKind;
  /**
   * Its health: the ECS service's counts on AWS; locally a GET of `path` at its address, or (a worker,
   * `path` null) its processes' health as the runtime's state file lists it.
   */
  readonly health: {
    readonly kind: 'service-health';
    readonly service: string;
    readonly path: string | null;
  };
  /** Its anomaly data when scored: CloudWatch on AWS (the anomaly source), its sidecars' merged API locally. */
  readonly anomalies: { readonly kind: 'service-anomalies'; readonly service: string } | null;
  /** The service's declared alert budget (its scored lines' false-alarm rate), when scored. */
  readonly alertBudget?: number;
}

/** An image the platform builds from a Dockerfile and keeps in its registry (`<platform>/<name>`). */
export interface ImageWiring {
  readonly name: string;
  /** Relative to {@link ImageWiring.source}'s folder, as {@link ImageWiring.context} is. */
  readonly dockerfile: string;
  /** The build context. */
  readonly context: string;
  /** Whose files they are: the package's (its sidecar, log router and an OperationsConsole's two) or the team's repository's. */
  readonly source: 'platform' | 'repository';
  /**
   * The SSM parameter holding the reference of this image's last release (`/<platform>/release/<name>`):
   * written by the deploy command when every service running the image runs the new one, read by
   * task definitions CloudFormation registers, so an infrastructure change never brings back an older image.
   */
  readonly releaseParameter: string;
}

/** When a job runs: EventBridge Scheduler's expression in its zone, and the parsed form the local runtime fires on. */
export interface ScheduleWiring {
  /** `cron(…)` or `rate(…)`, as Scheduler takes it. */
  readonly expression: string;
  readonly timeZone: string;
  readonly cron: CronFields | null;
  /** A rate's period (null for a cron). */
  readonly everyMinutes: number | null;
}

/** A scheduled job: a task definition run to completion on its schedule. */
export interface JobWiring {
  readonly job: string;
  readonly path: string;
  readonly image: ImageManifest;
  /** Task-definition family, `<platform>-<job>`; each run is a task of it (ECS group `family:<family>`). */
  readonly family: string;
  /** The log router, the app, the sidecar when scored, and the deadline that ends a run at its timeout. */
  readonly containers: readonly ContainerWiring[];
  readonly schedule: ScheduleWiring;
  readonly timeoutSeconds: number;
  /** Services a run may call (each admits the job's tasks). */
  readonly talksTo: readonly string[];
  /** Scheduler's retry policy for a start that failed (RunTask errors), never for a run that failed. */
  readonly retry: { readonly attempts: number; readonly maxEventAgeSeconds: number };
  readonly allowOverlap: boolean;
  /** What makes a run failed: the app's non-zero exit, or the deadline's own exit code (the timeout). */
  readonly failedRun: { readonly appContainer: string; readonly timeoutExitCode: number };
  readonly scored: boolean;
}

/**
 * The stage a release reaches this environment from: the environment declared just before it (the
 * declaration's promotion order), and that environment's physical platform name, whose repositories
 * (`<platform>/<image>`) hold the release's images this stage's promotion copies.
 */
export interface PromotionSourceWiring {
  readonly environment: string;
  readonly platform: string;
}

/**
 * One stage a release is promoted through: an environment of the declaration, rolled out, judged by
 * the anomaly gate, and only then followed by the next stage.
 */
export interface DeliveryStageWiring {
  /** The environment's name: the GitHub environment its jobs run in, and `--env NAME` on the command line. */
  readonly environment: string;
  /**
   * A person approves the stage before it starts: its jobs name a GitHub environment whose required
   * reviewers (set on the environment in the repository's settings) must approve them.
   */
  readonly protected: boolean;
  /**
   * The declaration declares this environment: `synth --env NAME` renders only its stacks, so each
   * stage's `cdk deploy` touches its own. False for the one stage of a declaration without environments.
   */
  readonly declared: boolean;
  /** The stage's physical platform name (`shop-staging`): its repositories are `<platform>/<image>`. */
  readonly platform: string;
  /** null: the first (or only) stage, whose images job builds and pushes the release itself. */
  readonly promotedFrom: PromotionSourceWiring | null;
}

/** The declared delivery, and where this environment's releases are promoted from. */
export type DeliveryWiring = NonNullable<PlatformManifest['delivery']> & {
  /** null: the first (or only) stage, whose images job builds and pushes the release itself. */
  readonly promotedFrom: PromotionSourceWiring | null;
  /** The platform's name as declared, before any environment qualifies it (the workflow's name). */
  readonly declaredPlatform: string;
  /**
   * Every stage a release goes through, in promotion order: one per declared environment, or the one
   * stage (`environment`, protected) of a declaration without environments.
   */
  readonly stages: readonly DeliveryStageWiring[];
};

/** Everything both renderers need, decided once from a manifest. */
export interface PlatformWiring {
  /** Images the task containers run that this repository builds, in build order. */
  readonly images: readonly ImageWiring[];
  /** Services in rollout order: every callee before its callers. */
  readonly rolloutOrder: readonly string[];
  /**
   * The platform's physical name: the declared name, qualified by the environment when one is rendered
   * (`shop-production`), the root of every name in the account.
   */
  readonly platform: string;
  /** The declared environment this wiring renders; null: none (a declaration without environments, or `start`'s local one). */
  readonly environment: { readonly name: string; readonly protected: boolean } | null;
  /** Private DNS namespace of discoverable services. */
  readonly namespace: string;
  readonly tasks: readonly TaskWiring[];
  /** Scheduled jobs: run to completion on their schedules, never ECS services. */
  readonly jobs: readonly JobWiring[];
  /** Listener rules by evaluation order, the default service last. */
  readonly routes: readonly RouteWiring[];
  readonly defaultRoute: DefaultRouteWiring;
  /** The declared VPC, and whether a Secrets Manager endpoint is needed (a declared secret lives there). */
  readonly network: PlatformManifest['network'] & { readonly secretsManagerEndpoint: boolean };
  /** The cluster's capacity, and whether its instances pull images from public registries. */
  readonly capacity: PlatformManifest['capacity'] & { readonly internetImagePulls: boolean };
  readonly edge: PlatformManifest['edge'];
  readonly observability: PlatformManifest['observability'];
  readonly remediation: PlatformManifest['remediation'];
  readonly delivery: DeliveryWiring | null;
  /** The model endpoint; null when the platform declares none (nothing is scored). */
  readonly model: ModelWiring | null;
  /** The prediction API; null without a model. */
  readonly api: ApiWiring | null;
  /** What a service with `read-service-state` receives in `SERVICES`, one entry per service. */
  readonly serviceDirectory: readonly DirectoryEntryWiring[];
  readonly rollbackPolicy: RollbackPolicyWiring;
  /** Where new revisions take test traffic; null when no service shifts traffic or nothing could reach it. */
  readonly testRoute: TestRouteWiring | null;
  readonly teardown: TeardownWiring;
}
