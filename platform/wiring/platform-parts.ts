import type { Manifest } from '../../config/index.ts';
import { PREDICTION_LIMITS, SEED_FEATURE_COUNT } from '../../contracts/prediction.ts';
import { LOG_ROUTER_IMAGE, SIDECAR_IMAGE } from '../../contracts/sidecar.ts';
import { PLATFORM_IMAGES, PREDICTION_TIMING } from './containers.ts';
import { WiringInvariantError } from './invariant.ts';
import { releaseParameterName } from './lifecycle.ts';
import type {
  ApiWiring,
  ContainerWiring,
  DirectoryEntryWiring,
  ImageWiring,
  ModelWiring,
  PredictionWiring,
  RouteWiring,
  TaskWiring,
} from './types.ts';

/**
 * The platform-wide parts of the wiring: the model endpoint, the prediction API, the service
 * directory, the images to build and the listener routes.
 */

/**
 * The SageMaker container contract (the model server honours it on both sides): it listens on 8080,
 * answers `GET /ping`, and finds its artifacts in /opt/ml/model.
 */
export const MODEL_CONTRACT = { port: 8080, pingPath: '/ping', artifactMountPath: '/opt/ml/model' } as const;

export function wireModel(model: NonNullable<Manifest['model']>): ModelWiring {
  if (model.image.kind !== 'dockerfile' || model.image.entry === null) {
    // config/ refuses a registry image, or one without an entry, for the model endpoint (ModelEndpoint's checks).
    throw new WiringInvariantError(
      model.path,
      "the model endpoint's image is not built from a Dockerfile with an entry",
    );
  }
  return {
    name: model.name,
    path: model.path,
    image: { dockerfile: model.image.dockerfile, entry: model.image.entry },
    port: MODEL_CONTRACT.port,
    health: {
      probe: { kind: 'http', port: MODEL_CONTRACT.port, path: MODEL_CONTRACT.pingPath },
      intervalSeconds: 10,
      timeoutSeconds: 2,
      retries: 3,
      healthyThreshold: 1,
      // Loading the TensorFlow.js model takes a few seconds.
      startPeriodSeconds: 15,
    },
    artifactDir: model.artifactDir,
    source: model.source,
    artifactMountPath: MODEL_CONTRACT.artifactMountPath,
    instances: { type: model.instanceType, count: model.instanceCount },
    budget: model.budget,
  };
}

/** The stage every client of the prediction API calls. */
export const PREDICTION_STAGE = 'v1';

const number = { type: 'number' };
const vector = { type: 'array', items: number, minItems: SEED_FEATURE_COUNT, maxItems: SEED_FEATURE_COUNT };

/**
 * The request body's JSON schema (draft 4), derived from contracts/prediction.ts: the function
 * validates again with the same contract; the schema only lets API Gateway turn malformed bodies away
 * before they cost an invocation. The batch limit is left to the function, which answers it with 413.
 */
export const PREDICTION_REQUEST_SCHEMA: Readonly<Record<string, unknown>> = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  title: 'PredictionRequest',
  type: 'object',
  oneOf: [
    {
      properties: { data: { oneOf: [vector, { type: 'array', items: vector, minItems: 1 }] } },
      required: ['data'],
      additionalProperties: false,
    },
    {
      properties: {
        logs: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            properties: {
              timestamp: { type: ['number', 'string'] },
              message: { type: 'string', maxLength: PREDICTION_LIMITS.maxMessageChars },
              logStream: { type: 'string', maxLength: PREDICTION_LIMITS.maxNameChars },
              logGroup: { type: 'string', maxLength: PREDICTION_LIMITS.maxNameChars },
            },
            required: ['timestamp', 'message'],
            additionalProperties: false,
          },
        },
      },
      required: ['logs'],
      additionalProperties: false,
    },
  ],
};

function wirePrediction(): PredictionWiring {
  return {
    method: 'POST',
    path: '/predict',
    functionName: 'predict',
    environment: {
      MODEL_ENDPOINT_NAME: { kind: 'model-endpoint-name' },
      MODEL_TIMEOUT_MS: { kind: 'literal', value: String(PREDICTION_TIMING.modelTimeoutMs) },
    },
    timeoutSeconds: PREDICTION_TIMING.functionTimeoutSeconds,
    grants: [{ kind: 'invoke-model' }],
  };
}

/** `POST /predict` for the declared clients, each with its own key; a key is always required. */
export function wireApi(manifest: Manifest & { model: NonNullable<Manifest['model']> }): ApiWiring {
  const fn = wirePrediction();
  return {
    stage: PREDICTION_STAGE,
    route: { method: fn.method, path: fn.path },
    keys: manifest.model.apiClients.map((client) => ({ ...client })),
    keyRequired: true,
    requestSchema: PREDICTION_REQUEST_SCHEMA,
    function: fn,
    createsAccountLoggingRole: manifest.platform.account.apiGatewayLoggingRole,
  };
}

/** One directory entry per task: its health by its app's health path, its anomalies when scored. */
export function wireServiceDirectory(tasks: readonly TaskWiring[]): DirectoryEntryWiring[] {
  return tasks.map((task) => {
    const app = task.containers.find((c) => c.name === task.entryContainer);
    const probe = app?.health?.probe;
    return {
      name: task.service,
      kind: task.kind,
      health: {
        kind: 'service-health',
        service: task.service,
        // A worker answers no HTTP: its health is its processes' (locally) or its ECS service's.
        path: task.kind === 'worker' ? null : probe?.kind === 'http' ? probe.path : '/',
      },
      anomalies: task.scored ? { kind: 'service-anomalies', service: task.service } : null,
      ...(task.alertBudget !== undefined ? { alertBudget: task.alertBudget } : {}),
    };
  });
}

/** Every Dockerfile-built image a task container runs, once each, services first. */
export function wireImages(
  manifest: Manifest,
  tasks: readonly { readonly containers: readonly ContainerWiring[] }[],
): ImageWiring[] {
  // The platform's own images build from the package's folder; a team's from its repository.
  const builds: Record<string, Pick<ImageWiring, 'dockerfile' | 'context' | 'source'>> = {
    [PLATFORM_IMAGES.sidecar]: { dockerfile: SIDECAR_IMAGE.dockerfile, context: '.', source: 'platform' },
    [PLATFORM_IMAGES.logRouter]: {
      dockerfile: LOG_ROUTER_IMAGE.dockerfile,
      context: '.',
      source: 'platform',
    },
  };
  for (const service of [...manifest.services, ...manifest.workers, ...manifest.jobs]) {
    const { image } = service;
    if (image.kind === 'dockerfile') {
      // The console's images (`Image.fromPlatform`) are the package's, like the sidecar's.
      builds[service.name] = {
        dockerfile: image.dockerfile,
        context: image.context,
        source: image.source ?? 'repository',
      };
    }
  }
  const images: ImageWiring[] = [];
  for (const container of tasks.flatMap((t) => t.containers)) {
    const build = builds[container.image];
    if (build && !images.some((i) => i.name === container.image)) {
      images.push({
        name: container.image,
        ...build,
        releaseParameter: releaseParameterName(manifest.platform.name, container.image),
      });
    }
  }
  return images.sort((a, b) => rank(a.name) - rank(b.name));
}

const rank = (image: string) => (Object.values(PLATFORM_IMAGES).includes(image as never) ? 1 : 0);

/** Web services' listener rules by priority, then the default (`/*`) service. */
export function wireRoutes(manifest: Manifest): RouteWiring[] {
  return manifest.services
    .filter((s) => s.kind === 'web')
    .map((s) => ({ service: s.name, paths: [...s.paths], priority: s.priority, public: s.public }))
    .sort((a, b) => (a.priority === 0 ? 1 : b.priority === 0 ? -1 : a.priority - b.priority));
}
