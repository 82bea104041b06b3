import { DescribeTasksCommand, type ECSClient, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import {
  type JobDirectory,
  type JobRun,
  type JobRuns,
  type JobsResponse,
  LocalJobRunsStateSchema,
} from '../../../contracts/job-runs.ts';
import { readStateFile } from './state-file.ts';

/**
 * The console's job runs (`GET /api/jobs`): every declared job (`JOBS`) with its latest runs, newest
 * first. Locally the runtime's `jobs.json` holds them; on AWS a run is a task of the job's family.
 */

/** Runs shown per job. */
const RUNS_PER_JOB = 20;

/** Every declared job with its runs from the local runtime's state file (`JOBS_STATE_FILE`). */
export async function localJobRuns(jobs: JobDirectory, stateFile: string | undefined): Promise<JobsResponse> {
  const state = stateFile ? await readStateFile(stateFile, LocalJobRunsStateSchema, 'jobs') : undefined;
  const runs = state?.runs ?? [];
  return {
    source: 'local',
    jobs: jobs.map((job) => ({ job: job.name, runs: newestFirst(runs.filter((r) => r.job === job.name)) })),
    ...(stateFile ? (state ? {} : { note: 'no run yet' }) : { note: 'JOBS_STATE_FILE is not set' }),
  };
}

/** Options of {@link ecsJobRuns}. */
export interface EcsJobRunsOptions {
  readonly ecs: Pick<ECSClient, 'send'>;
  readonly cluster: string;
  readonly jobs: JobDirectory;
  readonly signal?: AbortSignal;
}

/**
 * Every declared job's runs from ECS: `ListTasks` of its family (stopped and running, one page each) and
 * `DescribeTasks` (its app container's exit code, start and stop, the deadline container's exit, the stop
 * code of a task that never started) — the facts the failed-run rule matches on. ECS lists a stopped task
 * for about an hour, so older runs are gone from this view (the failed-run alarm and its SNS notices keep
 * them); per-run line counts are not read here (`lines` null): they are in the job's CloudWatch metrics.
 */
export async function ecsJobRuns(options: EcsJobRunsOptions): Promise<JobsResponse> {
  const { ecs, cluster, signal } = options;
  const jobs = await Promise.all(
    options.jobs.map(async (job): Promise<JobRuns> => {
      const lists = await Promise.all(
        (['STOPPED', 'RUNNING'] as const).map((desiredStatus) =>
          ecs.send(
            new ListTasksCommand({ cluster, family: job.family, desiredStatus, maxResults: RUNS_PER_JOB }),
            {
              abortSignal: signal,
            },
          ),
        ),
      );
      const arns = lists.flatMap((l) => l.taskArns ?? []);
      if (arns.length === 0) return { job: job.name, runs: [] };
      const described = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }), {
        abortSignal: signal,
      });
      const tasks = [...(described.tasks ?? [])].sort(
        (a, b) =>
          timeOf(a.createdAt) - timeOf(b.createdAt) || (a.taskArn ?? '').localeCompare(b.taskArn ?? ''),
      );
      const runs = tasks.map((task, i) => runOf(job, i + 1, task));
      return { job: job.name, runs: newestFirst(runs) };
    }),
  );
  return {
    source: 'aws',
    jobs,
    note: 'from ECS: ECS lists a stopped task for about an hour; per-run line counts are in CloudWatch metrics',
  };
}

function runOf(job: JobDirectory[number], number: number, task: Task): JobRun {
  const app = task.containers?.find((c) => c.name === job.appContainer);
  const timedOut = task.containers?.some(
    (c) => c.name !== job.appContainer && c.exitCode === job.timeoutExitCode,
  );
  const started = task.startedAt ?? task.createdAt;
  const stopped = task.lastStatus === 'STOPPED';
  const exitCode = app?.exitCode ?? null;
  const neverStarted = task.stopCode === 'TaskFailedToStart';
  const status: JobRun['status'] = !stopped
    ? 'running'
    : neverStarted
      ? 'failed'
      : timedOut
        ? 'timed-out'
        : exitCode === 0
          ? 'succeeded'
          : 'failed';
  const reason = neverStarted
    ? `could not start: ${task.stoppedReason ?? 'no reason given'}`
    : timedOut
      ? 'stopped at its timeout'
      : undefined;
  return {
    job: job.name,
    run: number,
    trigger: 'schedule',
    status,
    startedAt: new Date(timeOf(started)).toISOString(),
    ...(stopped && task.stoppedAt ? { endedAt: task.stoppedAt.toISOString() } : {}),
    ...(stopped && task.startedAt && task.stoppedAt
      ? { durationMs: task.stoppedAt.getTime() - task.startedAt.getTime() }
      : {}),
    exitCode: neverStarted ? null : exitCode,
    ...(reason ? { reason } : {}),
    lines: null,
    anomalies: [],
  };
}

const timeOf = (date: Date | undefined) => date?.getTime() ?? 0;

function newestFirst(runs: readonly JobRun[]): JobRun[] {
  return [...runs]
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.run - a.run)
    .slice(0, RUNS_PER_JOB);
}
