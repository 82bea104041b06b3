import { AnomaliesResponseSchema, SeriesResponseSchema } from '../../contracts/anomaly.ts';
import { SIDECAR_PATHS } from '../../contracts/sidecar.ts';
import { revisionLabel } from '../wiring/index.ts';
import type { DeploymentDriver, LocalDeploymentState, RevisionSample } from './deployments.ts';
import type { ProcessPlan } from './plan.ts';
import { pickFreePorts } from './ports.ts';
import type { Revision, ServiceRevisions } from './revisions.ts';
import type { Unit } from './unit.ts';

/** What the driver needs of the running platform. */
export interface RevisionDriverOptions {
  readonly revisions: ServiceRevisions;
  /** Builds (and registers for stop-all) a supervised unit for a plan. */
  readonly createUnit: (plan: ProcessPlan) => Unit;
  readonly progress: (line: string) => void;
  readonly report: (state: LocalDeploymentState) => void;
  readonly startTimeoutMs: number;
}

const url = (port: number) => `http://127.0.0.1:${port}`;

/**
 * The local runtime's side of a deployment: a new revision's processes are the current revision's
 * plans with new loopback ports and the release's variables, exactly as a new task-definition
 * revision is the old one with a new image or environment.
 */
export function revisionDriver(options: RevisionDriverOptions): DeploymentDriver {
  const { revisions } = options;
  const byId = (id: number): Revision => {
    const revision = revisions.all.find((r) => r.id === id);
    if (!revision) throw new Error(`${revisions.service}: no revision ${id}`);
    return revision;
  };
  const base = revisions.current;
  return {
    currentRevision: { id: base.id, label: base.label },
    async startRevision(env) {
      const id = revisions.nextId();
      const [appPort, sidecarPort] = await pickFreePorts(2);
      const label = revisionLabel(revisions.service, id);
      const sidecarPlan: ProcessPlan | undefined = base.sidecar
        ? {
            ...base.sidecar.plan,
            label: `${revisions.service}@${id}/sidecar`,
            port: sidecarPort!,
            env: { ...base.sidecar.plan.env, PORT: String(sidecarPort), TASK_REVISION: label },
            health: { ...base.sidecar.plan.health, url: `${url(sidecarPort!)}${SIDECAR_PATHS.health}` },
          }
        : undefined;
      const appPlan: ProcessPlan = {
        ...base.app.plan,
        label: `${revisions.service}@${id}`,
        port: appPort!,
        env: { ...base.app.plan.env, ...env, PORT: String(appPort) },
        health: {
          ...base.app.plan.health,
          url: `${url(appPort!)}${new URL(base.app.plan.health.url).pathname}`,
        },
        ...(sidecarPlan ? { logIntake: `${url(sidecarPort!)}${SIDECAR_PATHS.intake}` } : {}),
      };
      const sidecar = sidecarPlan ? options.createUnit(sidecarPlan) : undefined;
      const app = options.createUnit(appPlan);
      sidecar?.start();
      app.start();
      const healthy = await Promise.all([
        app.waitHealthy(options.startTimeoutMs),
        sidecar ? sidecar.waitHealthy(options.startTimeoutMs) : Promise.resolve(true),
      ]);
      const revision = revisions.add({ id, app, sidecar, weight: 0, startedAt: Date.now() });
      if (!healthy.every(Boolean)) {
        await stop(revision);
        throw new Error(`${label} did not become healthy within ${options.startTimeoutMs / 1000}s`);
      }
      return { id, label };
    },
    shift: (weights) => revisions.shift(weights),
    requests: (id) => revisions.all.find((r) => r.id === id)?.counters.requests ?? 0,
    async sample(id): Promise<RevisionSample> {
      const revision = byId(id);
      let scored = 0;
      let anomalous = 0;
      if (revision.sidecar) {
        try {
          const response = await fetch(
            `${url(revision.sidecar.plan.port)}${SIDECAR_PATHS.series}?bucketSeconds=10&buckets=60`,
            { signal: AbortSignal.timeout(1000) },
          );
          const parsed = SeriesResponseSchema.safeParse(await response.json());
          if (parsed.success) {
            for (const point of parsed.data.points) {
              if (point.t + parsed.data.bucketSeconds * 1000 < revision.startedAt) continue;
              scored += point.scored;
              anomalous += point.anomalous;
            }
          }
        } catch {
          // A sidecar that cannot be read gives no evidence; the health and 5xx alarms still decide.
        }
      }
      let firstAnomalousAt: number | undefined;
      if (revision.sidecar && anomalous > 0) {
        try {
          const response = await fetch(
            `${url(revision.sidecar.plan.port)}${SIDECAR_PATHS.anomalies}?limit=500`,
            {
              signal: AbortSignal.timeout(1000),
            },
          );
          const parsed = AnomaliesResponseSchema.safeParse(await response.json());
          if (parsed.success && parsed.data.records.length > 0) {
            firstAnomalousAt = Math.min(...parsed.data.records.map((r) => Date.parse(r.timestamp)));
          }
        } catch {
          // As above: no evidence, no first line.
        }
      }
      return {
        scored,
        anomalous,
        ...revision.counters,
        healthy: revision.app.healthy,
        ...(firstAnomalousAt !== undefined ? { firstAnomalousAt } : {}),
      };
    },
    stopRevision: async (id) => stop(byId(id)),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
    progress: options.progress,
    report: options.report,
  };

  async function stop(revision: Revision): Promise<void> {
    revisions.remove(revision);
    await revision.app.stop();
    await revision.app.forwarder?.close();
    await revision.sidecar?.stop();
  }
}
