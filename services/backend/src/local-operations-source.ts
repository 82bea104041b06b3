import type { ServiceStatus } from '../../../contracts/console-api.ts';
import type {
  AlarmStatus,
  AlarmsResponse,
  CapacityResponse,
  DeploymentsResponse,
  RemediationResponse,
  ServiceTasks,
} from '../../../contracts/console-ops.ts';
import {
  LocalDeploymentsStateSchema,
  type LocalProcess,
  LocalProcessesStateSchema,
} from '../../../contracts/console-ops.ts';
import type { JobDirectory, JobsResponse } from '../../../contracts/job-runs.ts';
import type { ServiceTarget } from './config.ts';
import { localJobRuns } from './job-runs.ts';
import type { OperationsSource, ServiceHealth } from './operations-source.ts';
import { probeServices } from './service-health.ts';
import { readStateFile } from './state-file.ts';

/** Options for {@link LocalOperationsSource}. */
export interface LocalOperationsSourceOptions {
  readonly services: readonly ServiceTarget[];
  readonly healthTimeoutMs: number;
  /** The local runtime's deployments state (`DEPLOYMENTS_STATE_FILE`). @default - no deployments */
  readonly deploymentsStateFile?: string;
  /** The local runtime's processes (`PROCESSES_STATE_FILE`). @default - no processes listed */
  readonly processesStateFile?: string;
  /** The platform's scheduled jobs (`JOBS`). @default [] */
  readonly jobs?: JobDirectory;
  /** The local runtime's job runs (`JOBS_STATE_FILE`). @default - no runs listed */
  readonly jobsStateFile?: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * The local adapter of the operations port. Health comes from HTTP probes; deployments and processes
 * from JSON files the local runtime writes (shapes in contracts/console-ops.ts), read on every call so
 * a new state shows on the next poll; alarms are derived from health (the local runtime has no
 * CloudWatch), and remediation, which only the AWS Lambda does, is reported as such.
 *
 * @example
 * const ops = new LocalOperationsSource({ services, healthTimeoutMs: 1500, deploymentsStateFile: process.env.DEPLOYMENTS_STATE_FILE });
 */
export class LocalOperationsSource implements OperationsSource {
  readonly kind = 'local' as const;
  private readonly options: LocalOperationsSourceOptions;
  private readonly now: () => number;
  /** When each derived alarm entered its current state, so `since` means what CloudWatch's does. */
  private readonly alarmSince = new Map<string, { state: AlarmStatus['state']; since: string }>();

  constructor(options: LocalOperationsSourceOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  async serviceHealth(): Promise<ServiceHealth> {
    const probed = await probeServices(
      this.options.services,
      this.options.healthTimeoutMs,
      this.options.fetch,
    );
    // A worker answers no HTTP: its health is its processes', as the supervisor reports them.
    const workers = this.options.services.filter((s) => s.kind === 'worker').map((s) => s.name);
    const path = this.options.processesStateFile;
    const state =
      workers.length > 0 && path
        ? await readStateFile(path, LocalProcessesStateSchema, 'processes')
        : undefined;
    return {
      healthSource: 'probe',
      services: probed.map((status) =>
        workers.includes(status.name) && state ? workerHealth(status, state.processes) : status,
      ),
    };
  }

  async jobs(): Promise<JobsResponse> {
    return localJobRuns(this.options.jobs ?? [], this.options.jobsStateFile);
  }

  async deployments(): Promise<DeploymentsResponse> {
    const path = this.options.deploymentsStateFile;
    if (!path) return { source: 'local', services: [], note: 'DEPLOYMENTS_STATE_FILE is not set' };
    const state = await readStateFile(path, LocalDeploymentsStateSchema, 'deployments');
    if (!state) return { source: 'local', services: [], note: 'no local deployment has run yet' };
    return { source: 'local', services: state.services };
  }

  async remediation(): Promise<RemediationResponse> {
    return {
      source: 'local',
      cooldownSeconds: null,
      budget: null,
      actions: [],
      note: 'remediation runs on AWS only (the remediate Lambda reacts to CloudWatch alarms); the local runtime restarts crashed processes instead',
    };
  }

  async alarms(): Promise<AlarmsResponse> {
    const { services } = await this.serviceHealth();
    const alarms = services.map((service): AlarmStatus => {
      const name = `${service.name}-unhealthy`;
      const state: AlarmStatus['state'] =
        service.health === 'down' ? 'ALARM' : service.health === 'up' ? 'OK' : 'INSUFFICIENT_DATA';
      const previous = this.alarmSince.get(name);
      const since = previous?.state === state ? previous.since : new Date(this.now()).toISOString();
      this.alarmSince.set(name, { state, since });
      const reason =
        state === 'ALARM'
          ? `health check failed: ${service.detail ?? 'down'}`
          : state === 'OK'
            ? 'health check passes'
            : 'no health check declared';
      return { name, state, reason, since, metric: 'health probe', service: service.name };
    });
    return {
      source: 'local',
      alarms,
      note: 'derived from the health probes; CloudWatch alarms exist on AWS only',
    };
  }

  async capacity(): Promise<CapacityResponse> {
    const path = this.options.processesStateFile;
    const state = path ? await readStateFile(path, LocalProcessesStateSchema, 'processes') : undefined;
    const processes = state?.processes ?? [];
    // Without the supervisor's file there are no counts to show; zeros would read as "nothing runs".
    const tasks: ServiceTasks[] = (state ? this.options.services : []).map((service) => {
      const apps = processes.filter((p) => p.service === service.name && p.role === 'app');
      return {
        service: service.name,
        desired: apps.filter((p) => p.state !== 'stopped').length,
        running: apps.filter((p) => p.state === 'running').length,
        pending: apps.filter((p) => p.state === 'starting' || p.state === 'restarting').length,
      };
    });
    return {
      source: 'local',
      instances: [],
      tasks,
      processes,
      ...(path ? {} : { note: 'PROCESSES_STATE_FILE is not set' }),
    };
  }
}

/** A worker is up while its app process runs, down while it restarts; `unknown` before it started. */
function workerHealth(status: ServiceStatus, processes: readonly LocalProcess[]): ServiceStatus {
  const apps = processes.filter((p) => p.service === status.name && p.role === 'app');
  const restarts = apps.reduce((n, p) => n + p.restarts, 0);
  const after = restarts > 0 ? `, ${restarts} restart${restarts === 1 ? '' : 's'}` : '';
  if (apps.some((p) => p.state === 'running'))
    return { ...status, health: 'up', detail: `process running${after}` };
  if (apps.some((p) => p.state === 'restarting')) {
    return { ...status, health: 'down', detail: `process restarting${after}` };
  }
  return { ...status, health: 'unknown', detail: 'not started yet' };
}
