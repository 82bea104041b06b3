import { AnomaliesResponseSchema } from '../../contracts/anomaly.ts';
import { CountsResponseSchema, EMPTY_COUNTS, type RevisionCounts } from '../../contracts/revision-counts.ts';
import { SIDECAR_PATHS } from '../../contracts/sidecar.ts';
import { sendProbes } from '../../functions/deployment-gate/probes.ts';
import { revisionLabel } from '../wiring/index.ts';
import type { DeploymentDriver, LocalDeploymentState, RevisionReading } from './deployments.ts';
import { healthAtPort } from './health-plan.ts';
import { pickFreePorts } from './ports.ts';
import { listeningPort, type ProcessPlan } from './process-plan.ts';
import { type Revision, releaseEnvironment, type ServiceRevisions } from './revisions.ts';
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
/** A sidecar read that takes longer gives no evidence this round (the next read, 500 ms on, may). */
const READ_TIMEOUT_MS = 1000;

/**
 * The local runtime's side of a deployment: a new revision's processes are the declared plans with new
 * loopback ports and the release's variables, exactly as a new task-definition revision is the declared
 * one with a new image or environment. Each revision is read through its own sidecar (`GET /counts`) and
 * the requests the local ALB or service address sent it, and probed on its own port (its test route).
 */
export function revisionDriver(options: RevisionDriverOptions): DeploymentDriver {
  const { revisions } = options;
  const byId = (id: number): Revision => {
    const revision = revisions.all.find((r) => r.id === id);
    if (!revision) throw new Error(`${revisions.service}: no revision ${id}`);
    return revision;
  };
  const base = revisions.current;
  const declared = revisions.declared;
  // A sidecar that cannot be read this round keeps its last reading: counts only grow.
  const lastCounts = new Map<number, RevisionCounts>();
  return {
    currentRevision: { id: base.id, label: base.label },
    async startRevision(changes) {
      const id = revisions.nextId();
      const [appPort, sidecarPort] = await pickFreePorts(2);
      const label = revisionLabel(revisions.service, id);
      const sidecarPlan: ProcessPlan | undefined = declared.sidecar
        ? {
            ...declared.sidecar.plan,
            label: `${revisions.service}@${id}/sidecar`,
            port: sidecarPort!,
            env: { ...declared.sidecar.plan.env, PORT: String(sidecarPort), TASK_REVISION: label },
            health: healthAtPort(declared.sidecar.plan.health, sidecarPort!),
          }
        : undefined;
      // From the declared environment, never the current revision's: one release's --env is its own.
      const { env, diff } = releaseEnvironment(declared.app.plan.env, changes);
      const appPlan: ProcessPlan = {
        ...declared.app.plan,
        label: `${revisions.service}@${id}`,
        port: appPort!,
        env: { ...env, PORT: String(appPort) },
        health: healthAtPort(declared.app.plan.health, appPort!),
        ...(sidecarPlan && base.app.plan.logIntake
          ? { logIntake: { ...base.app.plan.logIntake, url: `${url(sidecarPort!)}${SIDECAR_PATHS.intake}` } }
          : {}),
      };
      const sidecar = sidecarPlan ? options.createUnit(sidecarPlan) : undefined;
      const app = options.createUnit(appPlan);
      sidecar?.start();
      app.start();
      const healthy = await Promise.all([
        app.waitHealthy(options.startTimeoutMs),
        sidecar ? sidecar.waitHealthy(options.startTimeoutMs) : Promise.resolve(true),
      ]);
      const revision = revisions.add({
        id,
        app,
        sidecar,
        weight: 0,
        startedAt: Date.now(),
        environment: diff,
      });
      if (!healthy.every(Boolean)) {
        await stop(revision);
        throw new Error(`${label} did not become healthy within ${options.startTimeoutMs / 1000}s`);
      }
      return { id, label, environment: diff };
    },
    shift: (weights) => revisions.shift(weights),
    requests: (id) => revisions.all.find((r) => r.id === id)?.counters.requests ?? 0,
    async read(id): Promise<RevisionReading> {
      const revision = byId(id);
      const sidecar = revision.sidecar ? url(listeningPort(revision.sidecar.plan)) : undefined;
      let counts = lastCounts.get(id) ?? EMPTY_COUNTS;
      if (sidecar) {
        try {
          const response = await fetch(`${sidecar}${SIDECAR_PATHS.counts}`, {
            signal: AbortSignal.timeout(READ_TIMEOUT_MS),
          });
          const parsed = CountsResponseSchema.safeParse(await response.json());
          if (parsed.success) counts = parsed.data;
        } catch {
          // No reading this round: the last one stands.
        }
        lastCounts.set(id, counts);
      }
      let firstAnomalousAt: number | undefined;
      if (sidecar && counts.anomalous > 0) {
        try {
          const response = await fetch(`${sidecar}${SIDECAR_PATHS.anomalies}?limit=500`, {
            signal: AbortSignal.timeout(READ_TIMEOUT_MS),
          });
          const parsed = AnomaliesResponseSchema.safeParse(await response.json());
          if (parsed.success && parsed.data.records.length > 0) {
            firstAnomalousAt = Math.min(...parsed.data.records.map((r) => Date.parse(r.timestamp)));
          }
        } catch {
          // As above: no evidence, no first line.
        }
      }
      return {
        counts,
        loadBalancer: { bad: revision.counters.errors, total: revision.counters.requests },
        healthy: revision.app.healthy,
        ...(firstAnomalousAt !== undefined ? { firstAnomalousAt } : {}),
        ...(revision.counters.firstErrorAt !== undefined
          ? { firstErrorAt: revision.counters.firstErrorAt }
          : {}),
      };
    },
    async probe(id, paths, count, offset) {
      const revision = byId(id);
      const result = await sendProbes(
        { baseUrl: url(listeningPort(revision.app.plan)) },
        paths,
        count,
        {},
        offset,
      );
      // The test route's requests count at the revision's target group, as the ALB counts a test listener's.
      revision.counters.requests += result.answered;
      revision.counters.errors += result.errors;
      if (result.firstErrorAt !== undefined) revision.counters.firstErrorAt ??= result.firstErrorAt;
      return result;
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
