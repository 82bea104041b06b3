import type { ContainerRole, ContainerWiring, Grant } from './types.ts';

/**
 * A part of a rendering the parity test compares with the wiring. Parts both renderers render must
 * equal the wiring on both sides; a part only one renders is named by a declared difference.
 */
export type RenderedPart =
  | 'task.scaling'
  | 'task.target-group'
  | 'directory.health-source'
  | 'model.instances'
  | 'model.health'
  | 'api.stage'
  | 'api.keys'
  | 'api.schema'
  | 'rollback.evaluation-periods';

/**
 * Where the local runtime and AWS must differ, named once with the reason. The local runtime takes
 * these variables' values from {@link localOnlyEnvironment} and nowhere else; the parity test
 * (platform/wiring/test/parity.test.ts) allows exactly these differences and fails on any other.
 */
export interface DeclaredDifference {
  readonly id: string;
  readonly reason: string;
  /** Variables only the local runtime sets, by container role (`function`: the prediction function's host). */
  readonly localOnlyVariables?: Readonly<Partial<Record<ContainerRole | 'function', readonly string[]>>>;
  /** Containers only AWS runs (the local runtime stands in for them in-process). */
  readonly awsOnlyContainers?: readonly ContainerRole[];
  /** Parts only the AWS renderer renders (still compared with the wiring). */
  readonly awsOnlyParts?: readonly RenderedPart[];
  /** Parts only the local runtime renders (still compared with the wiring). */
  readonly localOnlyParts?: readonly RenderedPart[];
}

export const DECLARED_DIFFERENCES = [
  {
    id: 'static-local-credentials',
    reason:
      'On AWS the SDK takes the task role from the ECS credentials endpoint. Locally no AWS call is ever made: every client gets static dummy credentials and no instance-metadata lookup, so a misconfigured client fails fast instead of reaching a real account.',
    localOnlyVariables: {
      app: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_EC2_METADATA_DISABLED', 'AWS_DEFAULT_REGION'],
      sidecar: [
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_EC2_METADATA_DISABLED',
        'AWS_DEFAULT_REGION',
      ],
    },
  },
  {
    id: 'local-model-endpoint',
    reason:
      'On AWS the SageMaker runtime client finds the regional endpoint itself. Locally the real client is pointed at the SageMaker-runtime-compatible model server on loopback.',
    localOnlyVariables: {
      app: ['MODEL_ENDPOINT_URL'],
      sidecar: ['ENDPOINT_URL'],
      function: ['MODEL_ENDPOINT_URL'],
    },
  },
  {
    id: 'revision-label',
    reason:
      "On AWS the sidecar reads its task's revision from the ECS task metadata endpoint. Locally there is no such endpoint: the runtime hands each revision's sidecar its label (`backend:2`).",
    localOnlyVariables: { sidecar: ['TASK_REVISION'] },
  },
  {
    id: 'local-fault-switch',
    reason:
      'The fault switch (`npm run fault`) rehearses failures on one machine; on AWS it stays off, so no request can flip a production service into failure.',
    localOnlyVariables: { app: ['FAULTS_ENABLED'] },
  },
  {
    id: 'in-process-log-router',
    reason:
      "On AWS each task runs a FireLens router container (Fluent Bit). Locally the runtime's own router (platform/local/log-router.ts) reads each process's stdout and stderr and posts it to the sidecar in Fluent Bit's http output format, so no Fluent Bit is needed to run the platform.",
    awsOnlyContainers: ['log-router'],
  },
  {
    id: 'local-control-plane',
    reason:
      "On AWS the console reads deployments and capacity from ECS. Locally the runtime is the control plane: it writes its processes, deployments and job runs to state files whose paths only the local console's backend is handed.",
    localOnlyVariables: { app: ['DEPLOYMENTS_STATE_FILE', 'PROCESSES_STATE_FILE', 'JOBS_STATE_FILE'] },
  },
  {
    id: 'open-on-loopback',
    reason:
      'On AWS every route of a web service not declared `public` is preceded by an ALB authenticate action (Cognito or the declared OIDC provider). The local ALB listens on 127.0.0.1 only, reachable by this machine alone, so the console stays open there.',
  },
  {
    id: 'test-route',
    reason:
      "On AWS a new revision takes test traffic on the ALB's test listener (the wiring's testRoute: its own port, admitting only the NAT gateways' addresses), where the deployment gate sends its probes before any user reaches the revision. Locally the rehearsal reaches the new revision on its own loopback port instead; nothing else shares it.",
  },
  {
    id: 'release-records',
    reason:
      "On AWS each image's last release is recorded in an SSM parameter that CloudFormation reads whenever it registers a task definition, so an infrastructure change starts from the released images. Locally the runtime keeps its revisions itself (platform/local/revisions.ts) and no template is ever applied.",
  },
  {
    id: 'rehearsal-time-scale',
    reason:
      'A local deployment rehearses the declared strategy with minutes counted as seconds (a 5-minute canary bake lasts 5 s), so a rehearsal finishes while you watch; percentages, stages and alarms are the declared ones.',
  },
  {
    id: 'local-service-address',
    reason:
      "On AWS Cloud Map resolves <service>.<namespace> to every running task and CloudWatch aggregates every task's metrics and anomaly records. Locally each service has one stable loopback address, a proxy over its running revisions, and one merged view of its revisions' sidecars: callers and the console keep one URL while a deployment swaps processes behind it.",
  },
  {
    id: 'one-task-per-revision',
    reason:
      "On AWS a service's tasks scale between the declared minimum and maximum on CPU (target tracking). Locally each revision of a service is one process: scaling is not rehearsed.",
    awsOnlyParts: ['task.scaling'],
  },
  {
    id: 'container-health-for-targets',
    reason:
      "On AWS the ALB checks each target with its target group's own thresholds, drains it for the deregistration delay, and ECS ignores its failures for the grace period after a task starts. Locally the ALB routes by the container health check the supervisor runs, so the target group's check has no local counterpart.",
    awsOnlyParts: ['task.target-group'],
  },
  {
    id: 'directory-health-source',
    reason:
      "On AWS the console reads each service's health from ECS (DescribeServices on its ECS service) and its anomalies from CloudWatch. Locally it probes the service's health path at its stable address and reads its revisions' merged sidecars, so the directory names those instead.",
    localOnlyParts: ['directory.health-source'],
  },
  {
    id: 'one-model-server',
    reason:
      "On AWS SageMaker runs the declared number of instances of the declared type across Availability Zones and pings the container contract's `/ping` itself. Locally one model server process runs, and the supervisor pings `/ping` to know it is ready.",
    awsOnlyParts: ['model.instances'],
    localOnlyParts: ['model.health'],
  },
  {
    id: 'local-api-key-optional',
    reason:
      "On AWS every prediction request needs a client's API key, each bound to its usage plan (rate, burst, daily quota), under the stage (`/v1/predict`). The local API Gateway listens on 127.0.0.1 only, at its root (`/predict`): it asks for a key only when LOCAL_API_KEY is set, so a curl works out of the box, and it has no usage plans.",
    awsOnlyParts: ['api.stage', 'api.keys'],
  },
  {
    id: 'local-request-validation',
    reason:
      'On AWS API Gateway turns away a body that does not match the request schema before the function runs. Locally the function validates it with the same contract (contracts/prediction.ts), so a malformed body is a 400 in the error shape either way, answered by the function.',
    awsOnlyParts: ['api.schema'],
  },
  {
    id: 'rehearsal-judges-stages',
    reason:
      "On AWS the deployment alarms roll a release back when a rate breaches in the policy's consecutive one-minute evaluation periods. A rehearsal has no CloudWatch periods: the gate's own decision judges the new revision at each stage, and the alarms' rule its counts so far, both with the policy's minimum volume.",
    awsOnlyParts: ['rollback.evaluation-periods'],
  },
  {
    id: 'in-process-job-deadline',
    reason:
      "On AWS a scheduled job's run carries a deadline container that exits at the timeout, and ECS stops the task because it is essential. Locally the runtime runs the job's process itself and stops its process group at the timeout, so no timer process is needed.",
    awsOnlyContainers: ['deadline'],
  },
  {
    id: 'job-run-numbering',
    reason:
      "On AWS EventBridge Scheduler starts each run with RunTask (its EcsParameters carry no run number and no startedBy; the template sets only the group `family:<family>`), so a run is known by its task ARN, whose id ECS picks at random; the console numbers the runs ECS still lists (stopped tasks for about an hour) by creation time, so a run's number moves as older runs age out, every run's trigger is its schedule, and its sidecar's records carry the task definition's revision (task metadata), the same for every run of a release. Locally the runtime starts each run itself: it numbers a job's runs 1, 2, … from `start` (they begin again at 1 with the next `start`), keeps that number for the run's life (`--now` runs counted with the scheduled ones, trigger `now`), gives its records a stand-in task ARN of its process id, and labels the run's sidecar `<job>:<run>`, since a local run has no task definition revision.",
  },
  {
    id: 'loopback-ports',
    reason:
      'awsvpc gives every task its own network namespace, so each container listens on its declared port. Locally every process shares loopback: ports are allocated per run and handed out through the same variables (PORT, callee URLs, the service directory). An image with a declared fixed port listens there locally too, so two revisions of it cannot run side by side.',
  },
  {
    id: 'engine-less-root-filesystem',
    reason:
      "On ECS the app container's root filesystem is read-only and only the declared writable paths (tmpfs) take writes. Where the local runtime runs an image without an engine (`buildah run --isolation chroot`, platform/local/container-runners.ts) the working container's root stays writable: chroot isolation has no read-only root. The declared writable paths are tmpfs mounts there as on ECS, and on Docker or Podman the root is read-only (`--read-only`); `npm run images:verify` checks the platform's own images write nothing outside them.",
  },
] as const satisfies readonly DeclaredDifference[];

/** Inputs of the local-only values. */
export interface LocalOnlyContext {
  readonly region: string;
  /** The local model endpoint's URL; undefined without a declared model. */
  readonly modelUrl: string | undefined;
  readonly faultsEnabled: boolean;
  /** The runtime's state files, handed to a container holding `read-service-state`. */
  readonly stateFiles?: { readonly deployments: string; readonly processes: string; readonly jobs: string };
}

/**
 * The variables the local runtime adds to a container, per {@link DECLARED_DIFFERENCES}: credentials
 * and the local endpoint only for containers that call AWS (they hold a grant), the fault switch for
 * app containers.
 */
export function localOnlyEnvironment(
  container: ContainerWiring,
  context: LocalOnlyContext,
): Record<string, string> {
  const env: Record<string, string> = {};
  const callsAws = container.grants.some((g) => g.kind !== 'write-log-group');
  if (callsAws) {
    Object.assign(env, {
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_DEFAULT_REGION: context.region,
    });
  }
  if (context.modelUrl && container.grants.some((g) => g.kind === 'invoke-model')) {
    env[container.role === 'sidecar' ? 'ENDPOINT_URL' : 'MODEL_ENDPOINT_URL'] = context.modelUrl;
  }
  if (container.role === 'app') env.FAULTS_ENABLED = context.faultsEnabled ? '1' : '0';
  const service = container.environment.SERVICE_NAME;
  if (container.role === 'sidecar' && service?.kind === 'literal')
    env.TASK_REVISION = revisionLabel(service.value, 1);
  if (context.stateFiles && container.grants.some((g) => g.kind === 'read-service-state')) {
    env.DEPLOYMENTS_STATE_FILE = context.stateFiles.deployments;
    env.PROCESSES_STATE_FILE = context.stateFiles.processes;
    env.JOBS_STATE_FILE = context.stateFiles.jobs;
  }
  return env;
}

/** The variables the local runtime adds to the prediction function's host (see the differences above). */
export function localOnlyFunctionEnvironment(
  fn: { readonly grants: readonly Grant[] },
  context: LocalOnlyContext,
): Record<string, string> {
  return {
    AWS_REGION: context.region,
    AWS_DEFAULT_REGION: context.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...(context.modelUrl && fn.grants.some((g) => g.kind === 'invoke-model')
      ? { MODEL_ENDPOINT_URL: context.modelUrl }
      : {}),
  };
}

/** A revision's label, as a task-definition revision is named: `backend:2`. */
export function revisionLabel(service: string, revision: number): string {
  return `${service}:${revision}`;
}

/** The local-only variable names of a role (what the parity test subtracts). */
export function localOnlyVariableNames(role: ContainerRole): Set<string> {
  const names = new Set<string>();
  for (const difference of DECLARED_DIFFERENCES as readonly DeclaredDifference[]) {
    for (const name of difference.localOnlyVariables?.[role] ?? []) names.add(name);
  }
  return names;
}

/** The parts only one renderer renders, by side (what the parity test allows to be missing there). */
export function oneSidedParts(): {
  readonly aws: ReadonlySet<RenderedPart>;
  readonly local: ReadonlySet<RenderedPart>;
} {
  const aws = new Set<RenderedPart>();
  const local = new Set<RenderedPart>();
  for (const difference of DECLARED_DIFFERENCES as readonly DeclaredDifference[]) {
    for (const part of difference.awsOnlyParts ?? []) aws.add(part);
    for (const part of difference.localOnlyParts ?? []) local.add(part);
  }
  return { aws, local };
}
