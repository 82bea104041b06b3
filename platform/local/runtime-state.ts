import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LocalJobRunsState } from '../../contracts/job-runs.ts';
import type { ProcessPlan } from './process-plan.ts';

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

/**
 * Writes `value` as JSON to a temporary file beside `file`, then renames it over `file`. The temporary
 * name is random and opened exclusively, never through a symlink (another user cannot plant it in a
 * shared directory: issue 25 found `${file}.${pid}.tmp`), and its mode is set on the open file, since
 * the mode given to open applies only to a file it creates, and through the umask.
 */
function writeJsonAtomically(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(12).toString('hex')}.tmp`);
  const fd = openSync(
    tmp,
    constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    try {
      fchmodSync(fd, 0o600);
      writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
