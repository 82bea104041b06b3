import { z } from 'zod';
import type { AnomalyRecord } from './anomaly.ts';
import type { ServicesResponse, UnavailableSource } from './console-api.ts';
import { JudgementSchema } from './judgement.ts';

/**
 * What an operator opens the console for besides anomalies: deployments, remediation actions, alarm
 * states and capacity, plus the live event stream and the signed-in user. The backend builds these
 * from ECS, CloudWatch and DynamoDB on AWS and from the local runtime's state files locally; the
 * console imports the types only.
 *
 * The deployment shapes are zod schemas because, locally, they are read from a file another process
 * writes (`DEPLOYMENTS_STATE_FILE`, {@link LocalDeploymentsStateSchema}); the backend validates it.
 */

/** Where the operations views come from. */
export type OperationsSourceKind = 'aws' | 'local';

/** One revision of a service being rolled out, running, or drained. */
export const DeploymentSchema = z.object({
  /** ECS deployment id (`ecs-svc/…`) or the local runtime's own id. */
  id: z.string().min(1),
  /** The task-definition revision (`backend:42`) or the local revision label. */
  revision: z.string().min(1),
  /** `primary` is the newest (what the service converges to); `active` an older one still running. */
  status: z.enum(['primary', 'active', 'inactive']),
  rolloutState: z.enum(['in-progress', 'completed', 'failed']),
  /** Why the rollout is in this state (ECS `rolloutStateReason`, or the alarm that rolled it back). */
  reason: z.string().optional(),
  desired: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
  /** Share of the service's traffic this revision receives, 0..100. */
  trafficPercent: z.number().min(0).max(100),
  /** ISO-8601. */
  createdAt: z.string(),
  updatedAt: z.string(),
  /**
   * What the deployment gate saw at each stage that gave this revision traffic, latest first: the old
   * and the new revision side by side, the verdict and its rule (contracts/judgement.ts).
   */
  judgements: z.array(JudgementSchema).default([]),
  /** How this revision's environment differs from the declared one (locally: `--env`). */
  environment: z
    .object({
      set: z.record(z.string(), z.string()),
      unset: z.array(z.string()),
    })
    .optional(),
});
export type Deployment = z.infer<typeof DeploymentSchema>;

/** A rollback that happened: which revision was abandoned, for which, and why. */
export const RollbackSchema = z.object({
  fromRevision: z.string(),
  toRevision: z.string(),
  reason: z.string(),
  at: z.string(),
});
export type Rollback = z.infer<typeof RollbackSchema>;

/** One service's deployments, newest first. */
export const ServiceDeploymentsSchema = z.object({
  service: z.string().min(1),
  /** ECS deployment strategy (`ROLLING`, `BLUE_GREEN`, `LINEAR`, `CANARY`), lower-case. */
  strategy: z.enum(['rolling', 'blue-green', 'linear', 'canary']),
  /** How far the primary deployment is: its running tasks over its desired tasks, 0..100. */
  progressPercent: z.number().min(0).max(100),
  deployments: z.array(DeploymentSchema),
  rollbacks: z.array(RollbackSchema).default([]),
});
export type ServiceDeployments = z.infer<typeof ServiceDeploymentsSchema>;

/**
 * The file the local runtime writes for the console (`DEPLOYMENTS_STATE_FILE`), replaced atomically
 * (write a temporary file, then rename) whenever a local deployment advances.
 *
 * @example
 * {"updatedAt":"2026-12-01T22:00:00.000Z","services":[{"service":"backend","strategy":"canary",
 *  "progressPercent":50,"deployments":[{"id":"d-2","revision":"backend:2","status":"primary",
 *  "rolloutState":"in-progress","desired":2,"running":1,"pending":1,"trafficPercent":10,
 *  "createdAt":"…","updatedAt":"…"}],"rollbacks":[]}]}
 */
export const LocalDeploymentsStateSchema = z.object({
  updatedAt: z.string(),
  services: z.array(ServiceDeploymentsSchema),
});
/** The file as the runtime writes it (fields with defaults, such as `judgements`, may be left out). */
export type LocalDeploymentsState = z.input<typeof LocalDeploymentsStateSchema>;

/** One local process of a service (the local runtime's equivalent of a task). */
export const LocalProcessSchema = z.object({
  service: z.string().min(1),
  /** `app` or `sidecar`. */
  role: z.string().min(1),
  pid: z.number().int().positive().optional(),
  port: z.number().int().min(0).max(65535).optional(),
  revision: z.string().optional(),
  state: z.enum(['starting', 'running', 'restarting', 'stopped']),
  restarts: z.number().int().nonnegative().default(0),
  startedAt: z.string().optional(),
});
export type LocalProcess = z.infer<typeof LocalProcessSchema>;

/** The file the local runtime's supervisor writes (`PROCESSES_STATE_FILE`), replaced atomically. */
export const LocalProcessesStateSchema = z.object({
  updatedAt: z.string(),
  processes: z.array(LocalProcessSchema),
});
export type LocalProcessesState = z.infer<typeof LocalProcessesStateSchema>;

/** `GET /api/deployments`. */
export interface DeploymentsResponse {
  readonly source: OperationsSourceKind;
  readonly services: readonly ServiceDeployments[];
  /** Why the list may be empty or partial (`DEPLOYMENTS_STATE_FILE is not set`). */
  readonly note?: string;
}

/** One remediated resource (a service or an instance), from the remediation ledger. */
export interface RemediationAction {
  /** `service/<cluster>/<name>` or `instance/<id>`, as the remediate Lambda keys it. */
  readonly resource: string;
  /** When it last acted on the resource, ISO-8601. */
  readonly at: string;
  /** The EventBridge event (alarm state change) that led to the action. */
  readonly eventId: string;
  /** What was done (`scale out backend 2 → 3`), when the ledger recorded it. */
  readonly action?: string;
  /** Why (the alarm and its reason), when the ledger recorded it. */
  readonly reason?: string;
  /** Until when a further action on this resource is refused, ISO-8601. */
  readonly cooldownUntil: string;
  readonly coolingDown: boolean;
}

/** `GET /api/remediation`. */
export interface RemediationResponse {
  readonly source: OperationsSourceKind;
  readonly cooldownSeconds: number | null;
  /** The action budget of the current window; `null` when unknown (no ledger). */
  readonly budget: {
    readonly windowSeconds: number;
    readonly windowStart: string;
    readonly maxActions: number;
    readonly used: number;
    readonly remaining: number;
  } | null;
  readonly actions: readonly RemediationAction[];
  readonly note?: string;
}

/** One alarm, in CloudWatch's three states. */
export interface AlarmStatus {
  readonly name: string;
  readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  readonly reason: string;
  /** When the state last changed, ISO-8601. */
  readonly since: string;
  readonly metric?: string;
  /** The declared service the alarm watches, when its dimensions name one. */
  readonly service?: string;
}

/** `GET /api/alarms`. */
export interface AlarmsResponse {
  readonly source: OperationsSourceKind;
  readonly alarms: readonly AlarmStatus[];
  readonly note?: string;
}

/** One EC2 container instance of the cluster. */
export interface InstanceCapacity {
  readonly id: string;
  readonly instanceType?: string;
  readonly availabilityZone?: string;
  readonly status: string;
  readonly runningTasks: number;
  readonly pendingTasks: number;
  /** CPU units and MiB registered with ECS and still free. */
  readonly cpu: { readonly registered: number; readonly remaining: number };
  readonly memoryMiB: { readonly registered: number; readonly remaining: number };
  /** Task ENIs (awsvpc) attached to the instance: each task takes one, and instance types cap them. */
  readonly enis: number;
}

/** One service's tasks. */
export interface ServiceTasks {
  readonly service: string;
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
}

/** `GET /api/capacity`: instances, tasks and ENIs on AWS; processes locally. */
export interface CapacityResponse {
  readonly source: OperationsSourceKind;
  readonly instances: readonly InstanceCapacity[];
  readonly tasks: readonly ServiceTasks[];
  readonly processes: readonly LocalProcess[];
  readonly note?: string;
}

/**
 * Events on `GET /api/events` (server-sent events; the event name is the `type`). On connect the
 * stream sends `ready`, then the current `services`, `anomalies` (the newest records), `deployments`,
 * `alarms` and `capacity`; after that only what changed. The console merges anomaly records by
 * `anomalyKey` (contracts/anomaly-key.ts). A large batch of new records arrives as several `anomalies`
 * events.
 */
export type LiveEvent =
  | { readonly type: 'services'; readonly data: ServicesResponse }
  | {
      readonly type: 'anomalies';
      readonly data: {
        readonly records: readonly AnomalyRecord[];
        readonly unavailable: readonly UnavailableSource[];
      };
    }
  | { readonly type: 'deployments'; readonly data: DeploymentsResponse }
  | { readonly type: 'alarms'; readonly data: AlarmsResponse }
  | { readonly type: 'capacity'; readonly data: CapacityResponse };

/** Every {@link LiveEvent} type, in the order a new stream receives the current state. */
export const LIVE_EVENT_TYPES = [
  'services',
  'anomalies',
  'deployments',
  'alarms',
  'capacity',
] as const satisfies readonly LiveEvent['type'][];

/**
 * The stream's own events besides {@link LiveEvent}: `ready` opens it (with the reconnect delay), and
 * `dropped` ends it when the reader fell too far behind: what it missed is gone, so the console reads
 * every view again and reconnects, which sends the current state.
 */
export const LIVE_STREAM_EVENTS = { ready: 'ready', dropped: 'dropped' } as const;

/** The `dropped` event's data. */
export interface LiveDropped {
  readonly reason: string;
}

/**
 * Who a live stream belongs to, as the frontend server saw the caller (the signed-in user the ALB
 * vouches for, else the client's address); it replaces any value the caller sent. The backend caps
 * streams per value; without the header it counts the peer's address.
 */
export const CONSOLE_IDENTITY_HEADER = 'x-console-identity';

/** `GET /auth/me` on the frontend server: who the ALB says is signed in. */
export type IdentityResponse =
  | { readonly signedIn: false }
  | {
      readonly signedIn: true;
      /** The email, else the username, else the subject, from the ALB's `x-amzn-oidc-data` claims. */
      readonly name: string;
      readonly email?: string;
      /** Where the sign-out link points, relative to the console's page (the frontend server's `auth/sign-out`). */
      readonly signOutUrl: string;
    };
