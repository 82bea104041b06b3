import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RootConstruct } from 'constructs';
import { DEFAULT_BUDGET } from '../../contracts/alert-budget.ts';
import { RATE_UNIT_MINUTES } from './cron.ts';
import { DeclarationError, DeclarationErrors } from './declaration-error.ts';
import { type DeclaredEnvironment, undeclaredEnvironment } from './environments.ts';
import { ScheduledJob, scheduleExpression } from './job.ts';
import {
  type ImageManifest,
  type JobManifest,
  MANIFEST_VERSION,
  type Manifest,
  parseManifest,
  type ServiceManifest,
  type WorkerManifest,
} from './manifest.ts';
import { ModelEndpoint } from './model-endpoint.ts';
import { OperationsConsole } from './operations-console.ts';
import { Platform } from './platform.ts';
import { type InternalService, Service, WebService } from './service.ts';
import type { ImageSpec } from './values.ts';
import { WorkerService } from './worker.ts';

/**
 * The root of a declaration, like a cdk8s `App`. `synth()` validates the whole tree (cross-service
 * rules run here, after every construct exists) and returns the manifest both renderers read.
 *
 * @example
 * const app = new App();
 * const platform = new Platform(app, 'acme', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
 * // … services …
 * const manifest = app.synth();
 */
export class App extends RootConstruct {
  /**
   * Validates the declaration and returns its manifest; throws {@link DeclarationErrors} listing every
   * problem. With `environment`, the manifest of that declared environment: its overrides applied.
   * Without, the shared declaration (what `start` runs as the local environment).
   */
  synth(options: { readonly environment?: string } = {}): Manifest {
    const platform = this.platform();
    const errors = [...this.node.validate(), ...validatePlatform(platform)];
    if (errors.length > 0) throw new DeclarationErrors(errors);
    const chosen = options.environment;
    const environment =
      chosen === undefined ? null : (platform.environments.find((e) => e.name === chosen) ?? null);
    if (chosen !== undefined && environment === null) {
      const { rule, fix } = undeclaredEnvironment(platform.node.id, chosen, platform.environments);
      throw new DeclarationError(platform.node.path, 'environment', chosen, rule, fix);
    }
    return parseManifest(renderManifest(platform, environment));
  }

  /** The platform's name (its id), for messages about the whole declaration. */
  get platformName(): string {
    return this.platform().node.path;
  }

  /** The declared environments in promotion order, each with whether it is protected. */
  get environments(): DeclaredEnvironment[] {
    return this.platform().environments.map((e) => ({ ...e }));
  }

  private platform(): Platform {
    const platforms = this.node.children.filter((c): c is Platform => c instanceof Platform);
    if (platforms.length !== 1) {
      throw new DeclarationErrors([
        `(app): platforms (${platforms.length}) must be exactly 1. Fix: declare one new Platform(app, 'name', …) per app.`,
      ]);
    }
    return platforms[0]!;
  }

  /** Writes `manifest.json` into `outdir` and returns its path. */
  synthToFile(outdir: string): string {
    const manifest = this.synth();
    mkdirSync(outdir, { recursive: true });
    const file = join(outdir, 'manifest.json');
    writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
    return file;
  }
}

function servicesOf(platform: Platform): Service[] {
  return platform.node.children.filter((c): c is Service => c instanceof Service);
}

function workersOf(platform: Platform): WorkerService[] {
  return platform.node.children.filter((c): c is WorkerService => c instanceof WorkerService);
}

function jobsOf(platform: Platform): ScheduledJob[] {
  return platform.node.children.filter((c): c is ScheduledJob => c instanceof ScheduledJob);
}

/** The operations console's two services (the web server and its API), when the platform has one. */
function consoleServicesOf(platform: Platform): Set<Service> {
  return new Set(
    servicesOf(platform)
      .filter((s): s is OperationsConsole => s instanceof OperationsConsole)
      .flatMap((c) => [c, c.api]),
  );
}

function modelOf(platform: Platform): ModelEndpoint | undefined {
  return platform.node.children.find((c): c is ModelEndpoint => c instanceof ModelEndpoint);
}

/** Late checks that need the whole tree. */
function validatePlatform(platform: Platform): string[] {
  const errors: string[] = [];
  const services = servicesOf(platform);
  const web = services.filter((s): s is WebService => s instanceof WebService);
  if (services.length === 0) {
    errors.push(
      `${platform.node.path}: services (0) must be ≥ 1. Fix: declare a WebService or InternalService in the platform.`,
    );
  }
  if (services.length > 0 && web.length === 0) {
    errors.push(
      `${platform.node.path}: web services (0) must be ≥ 1. Fix: declare a WebService; the ALB needs a public service to route to.`,
    );
  }

  const owners = new Map<string, WebService>();
  for (const service of web) {
    for (const pattern of service.paths) {
      const owner = owners.get(pattern);
      const ops = [owner, service].find((s) => s instanceof OperationsConsole);
      if (owner && ops && pattern === '/*') {
        const team = ops === owner ? service : owner;
        errors.push(
          `${ops.node.path}: path ('/') takes the ALB's default route, which ${team.node.path} already has. Fix: serve the console under its own path, e.g. new OperationsConsole(platform, 'console', { path: '/console' }).`,
        );
      } else if (owner) {
        errors.push(
          `${service.node.path}: paths ('${pattern}') is already routed to ${owner.node.path}. Fix: give one of the two services a distinct path pattern.`,
        );
      } else {
        owners.set(pattern, service);
      }
    }
  }

  const model = modelOf(platform);
  const consoles = consoleServicesOf(platform);
  for (const service of [...services, ...workersOf(platform), ...jobsOf(platform)]) {
    // The console follows the platform: without a model endpoint it is not scored and calls no model.
    if (consoles.has(service as Service)) continue;
    if (service.anomaly.enabled && !model) {
      errors.push(
        `${service.node.path}: anomaly.enabled (true) needs a model endpoint. Fix: declare new ModelEndpoint(platform, 'log-anomaly', …) or set anomaly.enabled to false.`,
      );
    }
    if (service instanceof Service && service.platformAccess.invokeModel && !model) {
      errors.push(
        `${service.node.path}: platformAccess.invokeModel (true) needs a model endpoint. Fix: declare new ModelEndpoint(platform, 'log-anomaly', …) or set platformAccess.invokeModel to false.`,
      );
    }
  }

  return errors;
}

function renderManifest(platform: Platform, environment: DeclaredEnvironment | null): Manifest {
  const envName = environment?.name ?? null;
  const settings = platform.settingsIn(envName);
  const services = servicesOf(platform);
  const model = modelOf(platform);
  const callers = new Map<InternalService, string[]>();
  const workers = workersOf(platform);
  const jobs = jobsOf(platform);
  for (const caller of [...services, ...workers, ...jobs]) {
    for (const callee of caller.talksTo) callers.set(callee, [...(callers.get(callee) ?? []), caller.name]);
  }
  // The catch-all rule is the listener's default action; explicit patterns get priorities in
  // declaration order, spaced by 10 so a hand-made rule can be slotted between them.
  const consoles = consoleServicesOf(platform);
  const unscoredConsole = (service: Service) => !model && consoles.has(service);
  let nextPriority = 10;
  const rendered: ServiceManifest[] = services.map((service) => {
    const isWeb = service instanceof WebService;
    const paths = isWeb ? [...service.paths] : [];
    const isDefault = isWeb && paths.length === 1 && paths[0] === '/*';
    const priority = isWeb && !isDefault ? nextPriority : 0;
    if (isWeb && !isDefault) nextPriority += 10;
    return {
      name: service.name,
      path: service.node.path,
      kind: service.kind,
      image: imageManifest(service.image),
      port: service.port,
      cpuUnits: service.cpuUnits,
      memoryMiB: service.memoryMiB,
      healthCheck: { ...service.healthCheck },
      scaling: { ...service.scalingIn(envName) },
      stopTimeoutSeconds: service.stopTimeoutSeconds,
      environment: service.environment,
      secrets: service.secrets,
      talksTo: service.talksTo.map((s) => s.name),
      reachableFrom: callers.get(service as InternalService) ?? [],
      paths,
      priority,
      anomaly: renderAnomaly(
        unscoredConsole(service) ? { ...service.anomaly, enabled: false } : service.anomaly,
        model,
      ),
      platformAccess: {
        ...service.platformAccess,
        invokeModel: unscoredConsole(service) ? false : service.platformAccess.invokeModel,
      },
      deployment: { ...service.deploymentIn(envName), probes: [...service.deploymentIn(envName).probes] },
      approval: service.approval ? { ...service.approval } : null,
      rollbackOn: service.rollbackOn.map((a) => ({ ...a })),
      public: service instanceof WebService ? service.public : false,
      local: service.local ? { command: [...service.local.command] } : null,
    };
  });

  return {
    version: MANIFEST_VERSION,
    environment: environment ? { ...environment } : null,
    environments: platform.environments.map((e) => ({ ...e })),
    platform: {
      name: platform.node.id,
      network: { ...platform.network },
      capacity: { ...settings.capacity, instanceTypes: [...settings.capacity.instanceTypes] },
      edge: { ...settings.edge, auth: { ...settings.edge.auth } },
      observability: { ...settings.observability, alarmEmails: [...settings.observability.alarmEmails] },
      remediation: { ...platform.remediation },
      delivery: platform.delivery ? { ...platform.delivery } : null,
      account: { ...platform.account },
      teardown: { ...platform.teardown },
    },
    model: model
      ? {
          name: model.name,
          path: model.node.path,
          image: imageManifest(model.image),
          artifactDir: model.artifactDir,
          budget: model.budget,
          source: model.source,
          instanceType: model.instanceType,
          instanceCount: model.instanceCount,
          apiClients: model.apiClients.map((client) => ({ ...client })),
        }
      : null,
    services: rendered,
    workers: workers.map((w) => renderWorker(w, model, envName)),
    jobs: jobs.map((j) => renderJob(j, model)),
  };
}

/** A workload's anomaly scoring with its budget resolved: its own, else the model endpoint's, else the default. */
function renderAnomaly(
  anomaly: WorkerService['anomaly'],
  model: ModelEndpoint | undefined,
): ServiceManifest['anomaly'] {
  return {
    enabled: anomaly.enabled,
    budget: anomaly.budget ?? model?.budget ?? DEFAULT_BUDGET,
    threshold: anomaly.threshold,
    sidecar: { ...anomaly.sidecar },
  };
}

function renderJob(job: ScheduledJob, model: ModelEndpoint | undefined): JobManifest {
  const schedule = job.schedule;
  return {
    name: job.name,
    path: job.node.path,
    image: imageManifest(job.image),
    schedule: {
      expression: scheduleExpression(schedule),
      cron: job.cronFields ? (structuredClone(job.cronFields) as JobManifest['schedule']['cron']) : null,
      everyMinutes: schedule.kind === 'rate' ? schedule.value * RATE_UNIT_MINUTES[schedule.unit] : null,
    },
    timeZone: job.timeZone,
    timeoutSeconds: job.timeoutSeconds,
    retries: job.retries,
    allowOverlap: job.allowOverlap,
    cpuUnits: job.cpuUnits,
    memoryMiB: job.memoryMiB,
    environment: job.environment,
    secrets: job.secrets,
    talksTo: job.talksTo.map((s) => s.name),
    anomaly: renderAnomaly(job.anomaly, model),
  };
}

function renderWorker(
  worker: WorkerService,
  model: ModelEndpoint | undefined,
  environment: string | null,
): WorkerManifest {
  return {
    name: worker.name,
    path: worker.node.path,
    image: imageManifest(worker.image),
    cpuUnits: worker.cpuUnits,
    memoryMiB: worker.memoryMiB,
    healthCheck: {
      ...worker.healthCheck,
      command: worker.healthCheck.command ? [...worker.healthCheck.command] : null,
    },
    scaling: { ...worker.scalingIn(environment) },
    stopTimeoutSeconds: worker.stopTimeoutSeconds,
    environment: worker.environment,
    secrets: worker.secrets,
    talksTo: worker.talksTo.map((s) => s.name),
    anomaly: renderAnomaly(worker.anomaly, model),
    rollbackOn: worker.rollbackOn.map((a) => ({ kind: a.kind, percent: a.percent })),
  };
}

/** An image's manifest form: a copy, its declared run settings as plain arrays. */
function imageManifest(image: ImageSpec): ImageManifest {
  const base: ImageManifest =
    image.kind === 'dockerfile'
      ? {
          kind: 'dockerfile',
          dockerfile: image.dockerfile,
          context: image.context,
          entry: image.entry,
          ...(image.source ? { source: image.source } : {}),
        }
      : { kind: 'registry', uri: image.uri };
  const run = image.run;
  if (!run) return base;
  return {
    ...base,
    run: {
      command: run.command ? [...run.command] : null,
      entrypoint: run.entrypoint ? [...run.entrypoint] : null,
      user: run.user,
      port: run.port,
      writablePaths: [...run.writablePaths],
    },
  };
}
