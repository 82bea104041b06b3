import { resolve } from 'node:path';
import type { Manifest, ServiceManifest } from '../../config/index.ts';
import { SIDECAR_ENV, SIDECAR_PATHS } from '../../services/anomaly-sidecar/contract.ts';

/**
 * Pure planning: what the local runtime runs for a manifest, on which ports, with which environment.
 * Kept free of side effects so the wiring (the part most likely to drift from the AWS renderer) is
 * tested on its own.
 */

/** The parts of the repository the local runtime runs that the manifest does not name. */
export interface LocalParts {
  /** The anomaly sidecar's entry point (one process per service). */
  readonly sidecarEntry: string;
  /** The prediction function behind `POST /predict`: `module.ts#export`. */
  readonly predictHandler: string;
  /** The Lambda host that runs it. */
  readonly lambdaHostEntry: string;
}

export const DEFAULT_PARTS: LocalParts = {
  sidecarEntry: 'services/anomaly-sidecar/main.ts',
  predictHandler: 'functions/predict/handler.ts#handler',
  lambdaHostEntry: 'platform/local/lambda-host.ts',
};

/** Ports and switches chosen for one run. */
export interface RunSettings {
  /** Repository root; entries and artifact paths are relative to it. */
  readonly root: string;
  readonly modelPort: number;
  /** Internal loopback ports, at least {@link portsNeeded} of them. */
  readonly internalPorts: readonly number[];
  /** The local "region"; no AWS call is ever made. @default 'local' */
  readonly region?: string;
  /** Let the backend's fault switch be flipped (local default: on). @default true */
  readonly faultsEnabled?: boolean;
  /** Values for the services' declared `secrets`, by variable name (read from the caller's environment). */
  readonly secretValues?: Readonly<Record<string, string>>;
  readonly parts?: LocalParts;
}

/** How the supervisor knows a process is up. */
export interface HealthPlan {
  readonly url: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  readonly startPeriodMs: number;
}

/** One process to supervise. */
export interface ProcessPlan {
  /** Printed label and state-file key, e.g. `backend`, `backend/sidecar`, `model`, `predict`. */
  readonly label: string;
  readonly role: 'model' | 'service' | 'sidecar' | 'function';
  /** The declared service it belongs to (services and their sidecars). */
  readonly service?: string;
  /** TypeScript entry point, relative to the root. */
  readonly entry: string;
  readonly port: number;
  readonly env: Readonly<Record<string, string>>;
  readonly health: HealthPlan;
  readonly stopTimeoutMs: number;
  /** The sidecar intake its stdout/stderr is forwarded to (app containers only). */
  readonly logIntake?: string;
}

/** The whole local deployment of a manifest. */
export interface LocalPlan {
  readonly processes: readonly ProcessPlan[];
  /** URL of the SageMaker-runtime-compatible endpoint and the endpoint name callers use. */
  readonly model: { readonly url: string; readonly endpointName: string } | null;
}

/** Internal ports a manifest needs: each service and its sidecar, plus the predict function. */
export function portsNeeded(manifest: Manifest): number {
  return manifest.services.reduce((n, s) => n + (s.anomaly.enabled ? 2 : 1), 0) + 1;
}

/**
 * The variable a caller receives for a service it `talksTo`: `<NAME>_URL`, upper-case, hyphens as
 * underscores (`log-store` → `LOG_STORE_URL`).
 */
export function serviceUrlVariable(service: string): string {
  return `${service.toUpperCase().replaceAll('-', '_')}_URL`;
}

/** Credentials and switches that keep every AWS SDK client local (no metadata, no real endpoints). */
export function localAwsEnvironment(region: string): Record<string, string> {
  return {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** What every child inherits from the supervisor's own environment: only what a process needs to run. */
export function baseEnvironment(source: NodeJS.ProcessEnv): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'NODE_OPTIONS', 'NO_COLOR', 'FORCE_COLOR'];
  const env: Record<string, string> = {};
  for (const key of keep) {
    const value = source[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/**
 * Plans the processes of a manifest: the model server on `modelPort`, every service on an internal
 * port with its sidecar, and the predict function's Lambda host. Ports are fixed for the run, so a
 * restarted process comes back where its callers expect it.
 *
 * @example
 * const plan = planLocalRun(manifest, { root: process.cwd(), modelPort: 8082, internalPorts });
 */
export function planLocalRun(manifest: Manifest, settings: RunSettings): LocalPlan {
  const parts = settings.parts ?? DEFAULT_PARTS;
  const region = settings.region ?? 'local';
  const needed = portsNeeded(manifest);
  if (settings.internalPorts.length < needed) {
    throw new Error(`planLocalRun: ${needed} internal ports needed, ${settings.internalPorts.length} given`);
  }
  const ports = [...settings.internalPorts];
  const take = () => ports.shift()!;
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const aws = localAwsEnvironment(region);

  for (const service of manifest.services) {
    if (service.image.kind !== 'dockerfile') {
      throw new Error(
        `${service.path}: image is a registry image (${service.image.uri}); the local runtime runs only ` +
          'Image.fromDockerfile(…, { entry }) services, whose entry point it starts directly',
      );
    }
    for (const key of Object.keys(service.secrets)) {
      if (settings.secretValues?.[key] === undefined) {
        throw new Error(
          `${service.path}: secret ${key} has no local value. Set it in the environment of npm start ` +
            `(${key}=… npm start); locally secrets are never read from AWS`,
        );
      }
    }
  }

  const model = manifest.model;
  const modelUrl = model ? url(settings.modelPort) : undefined;
  const modelEnv: Record<string, string> = modelUrl
    ? { MODEL_ENDPOINT_URL: modelUrl, MODEL_ENDPOINT_NAME: model!.name }
    : {};

  const servicePorts = new Map<string, { app: number; sidecar?: number }>();
  for (const service of manifest.services) {
    servicePorts.set(service.name, { app: take(), ...(service.anomaly.enabled ? { sidecar: take() } : {}) });
  }
  const predictPort = take();

  // The platform's service directory, in the backend's `SERVICES` shape: what the console lists.
  const directory = manifest.services.map((s) => {
    const p = servicePorts.get(s.name)!;
    return {
      name: s.name,
      healthUrl: `${url(p.app)}${s.healthCheck.path}`,
      ...(p.sidecar ? { sidecarUrl: url(p.sidecar) } : {}),
    };
  });

  const processes: ProcessPlan[] = [];
  if (model) {
    if (model.image.kind !== 'dockerfile') {
      throw new Error(`${model.path}: image is a registry image; the local runtime needs an entry point`);
    }
    processes.push({
      label: 'model',
      role: 'model',
      entry: model.image.entry,
      port: settings.modelPort,
      env: {
        ...aws,
        PORT: String(settings.modelPort),
        HOST: '127.0.0.1',
        MODEL_DIR: resolve(settings.root, model.artifactDir),
      },
      health: platformHealth(`${url(settings.modelPort)}/ping`),
      stopTimeoutMs: 5000,
    });
  }

  for (const service of manifest.services) {
    const p = servicePorts.get(service.name)!;
    const env: Record<string, string> = {
      ...aws,
      ...modelEnv,
      ...service.environment,
      ...Object.fromEntries(Object.keys(service.secrets).map((k) => [k, settings.secretValues![k]!])),
      PORT: String(p.app),
      HOST: '127.0.0.1',
      // As on AWS, only a service declaring platformAccess.readAnomalies learns the directory and
      // reads anomalies (there from CloudWatch, here from the sidecars).
      ...(service.platformAccess.readAnomalies
        ? { SERVICES: JSON.stringify(directory), ANOMALY_SOURCE: 'local' }
        : {}),
      FAULTS_ENABLED: settings.faultsEnabled === false ? '0' : '1',
    };
    for (const callee of service.talksTo) {
      env[serviceUrlVariable(callee)] = url(servicePorts.get(callee)!.app);
    }
    processes.push({
      label: service.name,
      role: 'service',
      service: service.name,
      entry: (service.image as { entry: string }).entry,
      port: p.app,
      env,
      health: serviceHealth(service, `${url(p.app)}${service.healthCheck.path}`),
      stopTimeoutMs: service.stopTimeoutSeconds * 1000,
      ...(p.sidecar ? { logIntake: `${url(p.sidecar)}${SIDECAR_PATHS.intake}` } : {}),
    });
    if (p.sidecar) {
      processes.push({
        label: `${service.name}/sidecar`,
        role: 'sidecar',
        service: service.name,
        entry: parts.sidecarEntry,
        port: p.sidecar,
        env: {
          ...aws,
          // The sidecar's own names (services/anomaly-sidecar/contract.ts), the set the AWS renderer
          // gives it (platform/aws/constructs/service.ts) plus the local endpoint URL.
          [SIDECAR_ENV.port]: String(p.sidecar),
          [SIDECAR_ENV.host]: '127.0.0.1',
          [SIDECAR_ENV.serviceName]: service.name,
          [SIDECAR_ENV.clusterName]: manifest.platform.name,
          ...(model && modelUrl
            ? { [SIDECAR_ENV.endpointName]: model.name, [SIDECAR_ENV.endpointUrl]: modelUrl }
            : {}),
          ...(service.anomaly.threshold !== null
            ? { [SIDECAR_ENV.anomalyThreshold]: String(service.anomaly.threshold) }
            : {}),
        },
        health: platformHealth(`${url(p.sidecar)}${SIDECAR_PATHS.health}`),
        stopTimeoutMs: 5000,
      });
    }
  }

  const [handlerFile] = parts.predictHandler.split('#');
  processes.push({
    label: 'predict',
    role: 'function',
    entry: parts.lambdaHostEntry,
    port: predictPort,
    env: {
      ...aws,
      ...modelEnv,
      PORT: String(predictPort),
      HOST: '127.0.0.1',
      LAMBDA_HANDLER: `${resolve(settings.root, handlerFile!)}#${parts.predictHandler.split('#')[1]}`,
      AWS_LAMBDA_FUNCTION_NAME: 'predict',
      AWS_LAMBDA_FUNCTION_TIMEOUT: '10',
    },
    health: platformHealth(`${url(predictPort)}/ping`),
    stopTimeoutMs: 3000,
  });

  return { processes, model: model && modelUrl ? { url: modelUrl, endpointName: model.name } : null };
}

/** A service's declared health check; locally the first checks come quickly after a (re)start. */
function serviceHealth(service: ServiceManifest, url: string): HealthPlan {
  const hc = service.healthCheck;
  return {
    url,
    intervalMs: hc.intervalSeconds * 1000,
    timeoutMs: hc.timeoutSeconds * 1000,
    healthyThreshold: hc.healthyThreshold,
    unhealthyThreshold: hc.unhealthyThreshold,
    startPeriodMs: hc.startPeriodSeconds * 1000,
  };
}

/** Health of platform parts (model, sidecars, functions), which the manifest does not tune. */
function platformHealth(url: string): HealthPlan {
  return {
    url,
    intervalMs: 10_000,
    timeoutMs: 2000,
    healthyThreshold: 1,
    unhealthyThreshold: 3,
    startPeriodMs: 15_000,
  };
}
