import type {
  DeploymentStrategyManifest,
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

/** A container health check: an HTTP GET on 127.0.0.1 that must answer 2xx. */
export interface HealthWiring {
  readonly port: number;
  readonly path: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  /** Consecutive failures before the container is unhealthy (ECS `retries`). */
  readonly retries: number;
  /** Consecutive successes before a target is healthy (the ALB's; locally the supervisor's). */
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
export type ContainerRole = 'app' | 'sidecar' | 'log-router';

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
  readonly gateStages: readonly ('POST_TEST_TRAFFIC_SHIFT' | 'POST_PRODUCTION_TRAFFIC_SHIFT')[];
  /** The declared manual approval; null when releases do not wait for a person. */
  readonly pause: PauseWiring | null;
}

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
  readonly kind: 'web' | 'internal';
  /** Task-definition family, `<platform>-<service>`. */
  readonly family: string;
  readonly containers: readonly ContainerWiring[];
  /** The container the load balancer and callers reach. */
  readonly entryContainer: string;
  /** Registered in the private namespace as `<service>.<namespace>` (it has callers). */
  readonly discoverable: boolean;
  /** Services whose tasks may open connections to this one. */
  readonly reachableFrom: readonly string[];
  /**
   * The service's alert budget when its logs are scored: its sidecar decides by it, and the service
   * directory carries it so the console shows it beside the alert rate it observes.
   */
  readonly alertBudget?: number;
  readonly deployment: DeploymentWiring;
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

/** An image the platform builds from a Dockerfile and keeps in its registry (`<platform>/<name>`). */
export interface ImageWiring {
  readonly name: string;
  readonly dockerfile: string;
  /**
   * The SSM parameter holding the reference of this image's last release (`/<platform>/release/<name>`):
   * written by the deploy command when every service running the image runs the new one, read by
   * task definitions CloudFormation registers, so an infrastructure change never brings back an older image.
   */
  readonly releaseParameter: string;
}

/** Everything both renderers need, decided once from a manifest. */
/**
 * The rollback policy: one value each, read by the AWS deployment alarms, the deployment gate's
 * environment and the local rehearsal (platform/wiring/wire.ts gives each its reason).
 */
export interface RollbackPolicyWiring {
  /**
   * Below these volumes of the new revision a rate decides nothing: per evaluation period for an alarm,
   * over a stage's window for the gate and the rehearsal.
   */
  readonly minimumVolume: { readonly lines: number; readonly requests: number };
  /** How long the gate evaluates one stage before an unjudged release fails (locally time-scaled). */
  readonly gateDeadlineSeconds: number;
}

export interface PlatformWiring {
  /** Images the task containers run that this repository builds, in build order. */
  readonly images: readonly ImageWiring[];
  /** Services in rollout order: every callee before its callers. */
  readonly rolloutOrder: readonly string[];
  readonly platform: string;
  /** Private DNS namespace of discoverable services. */
  readonly namespace: string;
  readonly tasks: readonly TaskWiring[];
  /** Listener rules by evaluation order, the default service last. */
  readonly routes: readonly RouteWiring[];
  readonly defaultRoute: DefaultRouteWiring;
  readonly prediction: PredictionWiring | null;
  readonly rollbackPolicy: RollbackPolicyWiring;
  /** Where new revisions take test traffic; null when no service shifts traffic or nothing could reach it. */
  readonly testRoute: TestRouteWiring | null;
  readonly teardown: TeardownWiring;
}
