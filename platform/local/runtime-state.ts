import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LocalJobRunsState } from '../../contracts/job-runs.ts';
import type { ProcessPlan } from './plan.ts';

/** One process in the state file. */
export interface ProcessState {
  readonly label: string;
  readonly role: ProcessPlan['role'];
  readonly service?: string;
  /** null for a worker, which listens on none. */
  readonly port: number | null;
  readonly pid: number | null;
  /** Every process group this process has led (restarts add one). */
  readonly processGroups: readonly number[];
  readonly restarts: number;
  readonly healthy: boolean;
}

/** What `.local/runtime.json` holds. */
export interface RuntimeState {
  readonly supervisorPid: number;
  readonly startedAt: string;
  readonly urls: { readonly web: string; readonly api: string; readonly model: string | null };
  /** The runtime's control endpoint (`npm run deploy -- --local`), with the bearer token it requires. */
  readonly control?: { readonly url: string; readonly token: string } | null;
  readonly processes: readonly ProcessState[];
}

/** Where a run's state files go: beside the runtime state file. */
export function stateFilesBeside(stateFile: string): {
  deployments: string;
  processes: string;
  jobs: string;
} {
  return {
    deployments: join(dirname(stateFile), 'deployments.json'),
    processes: join(dirname(stateFile), 'processes.json'),
    jobs: join(dirname(stateFile), 'jobs.json'),
  };
}

/**
 * Writes a run's state files (runtime, deployments, processes, jobs), each atomically; without a
 * state file every write is a no-op.
 */
export class StateWriter {
  private readonly files:
    | { runtime: string; deployments: string; processes: string; jobs: string }
    | undefined;

  constructor(stateFile: string | undefined) {
    this.files = stateFile ? { runtime: stateFile, ...stateFilesBeside(stateFile) } : undefined;
  }

  runtime(state: RuntimeState): void {
    if (this.files) writeState(this.files.runtime, state);
  }

  deployments(value: unknown): void {
    if (this.files) writeJsonAtomically(this.files.deployments, value);
  }

  processes(value: unknown): void {
    if (this.files) writeJsonAtomically(this.files.processes, value);
  }

  /** The scheduled jobs' runs (contracts/job-runs.ts `LocalJobRunsState`). */
  jobs(value: LocalJobRunsState): void {
    if (this.files) writeJsonAtomically(this.files.jobs, value);
  }
}

/** Writes the state file atomically (a reader never sees half a file); only the owner may read it (it holds the control token). */
export function writeState(file: string, state: RuntimeState): void {
  writeJsonAtomically(file, state);
}

function writeJsonAtomically(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
