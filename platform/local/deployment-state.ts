import type { LocalDeploymentsState, LocalProcessesState } from '../../contracts/console-ops.ts';
import type { PlatformWiring } from '../wiring/index.ts';
import type { LocalDeploymentState } from './deployments.ts';
import type { ServiceRevisions } from './revisions.ts';

/**
 * The local runtime's state files for the console (contracts/console-ops.ts): the deployments of every
 * service (what ECS `DescribeServices` gives on AWS) and its processes (ECS tasks).
 */

export function deploymentsFile(
  states: ReadonlyMap<string, LocalDeploymentState>,
  rollbacks: ReadonlyMap<
    string,
    readonly { fromRevision: string; toRevision: string; reason: string; at: string }[]
  >,
  wiring: PlatformWiring,
): LocalDeploymentsState {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    updatedAt: new Date().toISOString(),
    services: [...states.values()].map((s) => {
      const strategy = wiring.tasks.find((t) => t.service === s.service)!.deployment.strategy.strategy;
      const ended = s.phase === 'completed' || s.phase === 'rolled-back' || s.phase === 'failed';
      const rolloutState: 'completed' | 'failed' | 'in-progress' =
        s.phase === 'completed' ? 'completed' : ended ? 'failed' : 'in-progress';
      const newer = s.to
        ? [
            {
              id: `${s.service}-${s.startedAt}`,
              revision: s.to,
              status:
                s.phase === 'rolled-back' || s.phase === 'failed'
                  ? ('inactive' as const)
                  : ('primary' as const),
              rolloutState,
              ...(s.reason ? { reason: s.reason } : {}),
              desired: 1,
              running: s.phase === 'rolled-back' ? 0 : 1,
              pending: 0,
              trafficPercent: s.trafficPercent,
              createdAt: iso(s.startedAt),
              updatedAt: iso(s.updatedAt),
              judgements: [...s.judgements],
              ...(s.environment
                ? { environment: { set: { ...s.environment.set }, unset: [...s.environment.unset] } }
                : {}),
            },
          ]
        : [];
      const older = {
        id: `${s.service}-${s.startedAt}-from`,
        revision: s.from,
        status: s.phase === 'completed' ? ('inactive' as const) : ('active' as const),
        rolloutState: 'completed' as const,
        desired: 1,
        running: s.phase === 'completed' ? 0 : 1,
        pending: 0,
        trafficPercent: 100 - s.trafficPercent,
        createdAt: iso(s.startedAt),
        updatedAt: iso(s.updatedAt),
      };
      return {
        service: s.service,
        strategy,
        progressPercent: s.phase === 'completed' ? 100 : s.trafficPercent,
        deployments: [...newer, older],
        rollbacks: [...(rollbacks.get(s.service) ?? [])],
      };
    }),
  };
}

export function processesFile(revisions: ReadonlyMap<string, ServiceRevisions>): LocalProcessesState {
  return {
    updatedAt: new Date().toISOString(),
    processes: [...revisions.values()].flatMap((list) =>
      list.all.flatMap((r) =>
        [{ unit: r.app, role: 'app' }, ...(r.sidecar ? [{ unit: r.sidecar, role: 'sidecar' }] : [])].map(
          ({ unit, role }) => ({
            service: list.service,
            role,
            ...(unit.proc.pid ? { pid: unit.proc.pid } : {}),
            port: unit.plan.port,
            revision: r.label,
            // A process that exited and waits for its restart is not "starting": it is down.
            state: !unit.proc.running
              ? ('restarting' as const)
              : unit.healthy
                ? ('running' as const)
                : ('starting' as const),
            restarts: unit.proc.restarts,
            startedAt: new Date(r.startedAt).toISOString(),
          }),
        ),
      ),
    ),
  };
}
