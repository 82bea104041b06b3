import { Construct } from 'constructs';
import { DEFAULT_BUDGET } from '../../contracts/alert-budget.ts';
import { Check, DISTINCT_ID_FIX, freeId } from './checks.ts';
import { refuseEnvironments } from './environments.ts';
import { Platform } from './platform.ts';
import { checkBudget } from './service-checks.ts';
import type { Image, ImageSpec } from './values.ts';

/** The model this package ships: its inference server's image and its trained artifacts, in the package. */
export const PLATFORM_MODEL = {
  dockerfile: 'Dockerfile.model',
  entry: 'model/serve/main.ts',
  artifactDir: 'model/artifacts/default',
} as const;

export interface ModelEndpointProps {
  /**
   * The inference image (the SageMaker container contract: GET /ping, POST /invocations on 8080), from
   * the team's repository; give `artifactDir` with it.
   * @default - the log-anomaly model this package ships (its Dockerfile.model and model/serve/main.ts)
   */
  readonly image?: Image;
  /**
   * Model artifact directory in the team's repository, packed into `model.tar.gz`; give `image` with it.
   * @default - the package's trained artifacts (model/artifacts/default)
   */
  readonly artifactDir?: string;
  /**
   * The alert budget of what the platform scores for itself (instance logs, through the log-subscription
   * scorer), and the budget of every service that declares none (`anomaly.budget`): the share of normal
   * lines the model may flag, from 0.000001 to 0.05. Train the artifact for it too
   * (`npm run model:train -- … --budget`), so its own `anomaly` flag means the same.
   * @default 0.001
   */
  readonly budget?: number;
  /** SageMaker instance type. @default 'ml.m5.large' */
  readonly instanceType?: string;
  /**
   * Instances behind the endpoint, at least two: SageMaker spreads them over AZs, so an AZ or instance
   * failure leaves the endpoint serving. @default 2
   */
  readonly instanceCount?: number;
  /**
   * Clients of the prediction API (`POST /predict`): each gets its own API key and usage plan, so one
   * client's key can be revoked, or its rate limited, without touching the others.
   * @default - one client, 'default', 50 requests/s, burst 100, 100000 a day
   */
  readonly apiClients?: readonly PredictionApiClientProps[];
}

/** One client of the prediction API. */
export interface PredictionApiClientProps {
  /** Names the client's API key and usage plan. */
  readonly name: string;
  /** Steady requests per second. @default 50 */
  readonly rateLimitPerSecond?: number;
  /** Burst above the rate. @default 100 */
  readonly burstLimit?: number;
  /** Requests a day. @default 100000 */
  readonly dailyQuota?: number;
}

/**
 * The SageMaker endpoint serving the log-anomaly model, which sidecars, the log-scorer and the
 * prediction API call. At most one per platform.
 *
 * @example
 * new ModelEndpoint(platform, 'log-anomaly', {
 *   image: Image.fromDockerfile('Dockerfile.model', { entry: 'model/serve/main.ts' }),
 *   artifactDir: 'model/artifacts/default',
 * });
 */
export class ModelEndpoint extends Construct {
  readonly name: string;
  readonly image: ImageSpec;
  readonly artifactDir: string;
  readonly budget: number;
  /** Whose files the image and artifacts are: the package's own model, or the team's. */
  readonly source: 'platform' | 'repository';
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly apiClients: ReadonlyArray<Required<PredictionApiClientProps>>;

  constructor(scope: Platform, id: string, props: ModelEndpointProps = {}) {
    super(scope, freeId(scope, id, DISTINCT_ID_FIX));
    const check = new Check(this.node.path);
    refuseEnvironments(check, props, 'a model endpoint');
    this.name = check.pattern(
      'id',
      id,
      /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/,
      'must be 2-32 lowercase letters, digits or hyphens, starting with a letter',
      "rename the endpoint, e.g. 'log-anomaly'",
    );
    const others = Platform.of(this).node.children.filter((c) => c instanceof ModelEndpoint && c !== this);
    if (others.length > 0) {
      check.fail(
        'id',
        id,
        'is a second model endpoint; a platform has at most one',
        `remove it or reuse '${others[0]?.node.id}'`,
      );
    }
    this.source = props.image === undefined && props.artifactDir === undefined ? 'platform' : 'repository';
    if (this.source === 'repository' && (props.image === undefined || props.artifactDir === undefined)) {
      const missing = props.image === undefined ? 'image' : 'artifactDir';
      check.fail(
        missing,
        undefined,
        `is required with ${missing === 'image' ? 'artifactDir' : 'image'} (a model of your own)`,
        `declare both, or neither for the model this package ships`,
      );
    }
    this.image =
      props.image?.spec ??
      ({
        kind: 'dockerfile',
        dockerfile: PLATFORM_MODEL.dockerfile,
        context: '.',
        entry: PLATFORM_MODEL.entry,
      } as const);
    if (this.image.kind !== 'dockerfile') {
      check.fail(
        'image',
        this.image.uri,
        'is a registry image; the endpoint is built from its Dockerfile (the image and its entry)',
        "declare Image.fromDockerfile('Dockerfile.model', { entry: 'model/serve/main.ts' })",
      );
    }
    const entry = this.image.kind === 'dockerfile' ? this.image.entry : null;
    if (entry === null || !/\.(?:ts|mts|js|mjs)$/.test(entry)) {
      check.fail(
        'image.entry',
        entry,
        "must be the inference server's TypeScript or JavaScript entry (the local runtime starts it)",
        "give Image.fromDockerfile(…, { entry: 'model/serve/main.ts' }), or leave image out for the model this package ships",
      );
    }
    this.artifactDir = check.pattern(
      'artifactDir',
      props.artifactDir ?? PLATFORM_MODEL.artifactDir,
      /^[^/].*[^/]$|^[^/]$/,
      'must be a relative path',
      "use a path such as 'model/artifacts/default'",
    );
    this.budget = checkBudget(check, 'budget', props.budget ?? DEFAULT_BUDGET);
    this.instanceType = check.pattern(
      'instanceType',
      props.instanceType ?? 'ml.m5.large',
      /^ml\.[a-z0-9]+\.[a-z0-9]+$/,
      'is not a SageMaker instance type',
      "use a name such as 'ml.m5.large'",
    );
    const instanceCount = props.instanceCount ?? 2;
    if (Number.isInteger(instanceCount) && instanceCount < 2) {
      check.fail(
        'instanceCount',
        instanceCount,
        'must be ≥ 2',
        'keep two instances or more, so an AZ or instance failure leaves the endpoint serving',
      );
    }
    this.instanceCount = check.integer('instanceCount', instanceCount, 2, 20);
    const clients = props.apiClients ?? [{ name: 'default' }];
    if (clients.length === 0) {
      check.fail('apiClients', clients, 'must name at least one client', "use e.g. [{ name: 'default' }]");
    }
    this.apiClients = clients.map((client, i) => ({
      name: check.pattern(
        `apiClients[${i}].name`,
        client.name,
        /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/,
        'must be 2-32 lowercase letters, digits or hyphens, starting with a letter',
        "name the client, e.g. 'billing'",
      ),
      rateLimitPerSecond: check.integer(
        `apiClients[${i}].rateLimitPerSecond`,
        client.rateLimitPerSecond ?? 50,
        1,
        10000,
      ),
      burstLimit: check.integer(`apiClients[${i}].burstLimit`, client.burstLimit ?? 100, 1, 5000),
      dailyQuota: check.integer(`apiClients[${i}].dailyQuota`, client.dailyQuota ?? 100_000, 1, 100_000_000),
    }));
    const names = this.apiClients.map((c) => c.name);
    if (new Set(names).size !== names.length) {
      check.fail('apiClients', names, 'must not repeat a client name', 'give each client its own name');
    }
  }
}
