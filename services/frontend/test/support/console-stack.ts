import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { createSageMakerRuntimeClient, ScoringClient } from '../../../../model/client/scoring-client.ts';
import { startInferenceServer } from '../../../../model/serve/index.ts';
import { createBackendApp } from '../../../backend/src/app.ts';
import type { ServiceTarget } from '../../../backend/src/config.ts';
import { FaultSwitch } from '../../../backend/src/fault-switch.ts';
import { LiveFeed } from '../../../backend/src/live-feed.ts';
import { LocalAnomalySource } from '../../../backend/src/local-anomaly-source.ts';
import { LocalOperationsSource } from '../../../backend/src/local-operations-source.ts';
import { listen, type RunningServer, startSidecar } from '../../../backend/test/support/upstream-servers.ts';
import { createFrontendApp } from '../../server/app.ts';
import { loadStaticAssets } from '../../server/static-assets.ts';

/**
 * The whole console on loopback, as the browser test and the Lighthouse bench need it: a fresh vite
 * build served by the real frontend server, the real backend with its local adapters, two
 * sidecar-shaped servers (records can be added while the page is open) and the real inference server.
 */
export interface ConsoleStack {
  readonly url: string;
  readonly backendUrl: string;
  readonly sidecars: {
    readonly frontend: Awaited<ReturnType<typeof startSidecar>>;
    readonly backend: Awaited<ReturnType<typeof startSidecar>>;
  };
  readonly modelUrl: string;
  close(): Promise<void>;
}

export interface ConsoleStackOptions {
  /** The local deployments state file the backend reads (DEPLOYMENTS_STATE_FILE). */
  readonly deploymentsStateFile?: string;
  /** The processes state file (PROCESSES_STATE_FILE). */
  readonly processesStateFile?: string;
  /** How often the backend's live feed polls the sidecars. @default 250 */
  readonly anomalyPollMs?: number;
  /** How often health is probed for the live feed. @default 1000 */
  readonly healthIntervalMs?: number;
}

export async function startConsoleStack(options: ConsoleStackOptions = {}): Promise<ConsoleStack> {
  const frontendRoot = new URL('../..', import.meta.url).pathname;
  const buildDir = mkdtempSync(join(tmpdir(), 'console-build-'));
  const { build } = await import('vite');
  await build({
    configFile: join(frontendRoot, 'vite.config.ts'),
    build: { outDir: buildDir, emptyOutDir: true },
    logLevel: 'warn',
  });
  const servers: RunningServer[] = [];
  const now = Date.now();
  const frontendSidecar = await startSidecar('frontend', { records: 4, newest: now });
  const backendSidecar = await startSidecar('backend', { records: 2, newest: now - 30_000, seriesShift: 1 });
  const model = await startInferenceServer({ port: 0 });
  servers.push(frontendSidecar, backendSidecar, model);
  const services: ServiceTarget[] = [
    { name: 'frontend', healthUrl: `${frontendSidecar.url}/health`, sidecarUrl: frontendSidecar.url },
    { name: 'backend', healthUrl: `${backendSidecar.url}/health`, sidecarUrl: backendSidecar.url },
  ];
  const anomalies = new LocalAnomalySource({ services, timeoutMs: 1000 });
  const operations = new LocalOperationsSource({
    services,
    healthTimeoutMs: 1000,
    deploymentsStateFile: options.deploymentsStateFile,
    processesStateFile: options.processesStateFile,
  });
  const live = new LiveFeed({
    services,
    anomalies,
    operations,
    anomalyPollMs: options.anomalyPollMs ?? 250,
    healthIntervalMs: options.healthIntervalMs ?? 1000,
    operationsIntervalMs: 1000,
  });
  const backend = await listen(
    createBackendApp({
      services,
      anomalies,
      operations,
      live,
      scoring: new ScoringClient({
        endpointName: 'log-anomaly',
        runtime: createSageMakerRuntimeClient({ endpointUrl: model.url }),
      }),
      faults: new FaultSwitch({ enabled: false, dependencyTimeoutMs: 10, log: () => undefined }),
      healthTimeoutMs: 1000,
      log: () => undefined,
    }) as unknown as Hono,
  );
  servers.push(backend);
  const frontend = await listen(
    createFrontendApp({
      assets: loadStaticAssets(buildDir),
      backendUrl: backend.url,
      backendTimeoutMs: 5000,
      log: () => undefined,
    }) as unknown as Hono,
  );
  servers.push(frontend);
  return {
    url: frontend.url,
    backendUrl: backend.url,
    sidecars: { frontend: frontendSidecar, backend: backendSidecar },
    modelUrl: model.url,
    async close() {
      live.close();
      await Promise.all(servers.map((s) => s.close()));
      rmSync(buildDir, { recursive: true, force: true });
    },
  };
}
