import { DescribeTasksCommand, type ECSClient, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import {
  type JobDirectory,
  type JobRun,
  type JobRuns,
  type JobsResponse,
  LocalJobRunsStateSchema,
} from '../../../contracts/job-runs.ts';
import type { AnomalySource } from './anomaly-source.ts';
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
      // Numbered among the tasks ECS still lists, oldest first: a run's identity on AWS is its task ARN
      // (platform/wiring/differences.ts, 'job-run-numbering').
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
    ...(task.taskArn ? { task: task.taskArn } : {}),
  };
}

/** Anomaly records read per job to find its runs' lines. */
const RECORDS_PER_JOB = 200;
/** A run's anomalous lines kept (as the local runtime keeps them). */
const LINES_PER_RUN = 20;

/**
 * On AWS, each run's anomalous lines: the job's anomaly records (its sidecar writes them to the anomaly
 * log group, each with its task's ARN) matched to the run by task. A job whose records cannot be read is
 * named in the note, never shown as a run without anomalies.
 */
export async function withAnomalousLines(
  response: JobsResponse,
  anomalies: Pick<AnomalySource, 'recentAnomalies'>,
  signal?: AbortSignal,
): Promise<JobsResponse> {
  const problems: string[] = [];
  const jobs = await Promise.all(
    response.jobs.map(async (job): Promise<JobRuns> => {
      if (job.runs.length === 0) return job;
      const read = await anomalies.recentAnomalies([job.job], RECORDS_PER_JOB, signal);
      for (const missing of read.unavailable) {
        problems.push(`anomalous lines of ${missing.service} could not be read: ${missing.reason}`);
      }
      return {
        job: job.job,
        runs: job.runs.map((run) => ({
          ...run,
          anomalies: read.records
            .filter((r) => run.task !== undefined && r.task === run.task)
            .slice(0, LINES_PER_RUN)
            .map((r) => r.line),
        })),
      };
    }),
  );
  const note = [response.note, ...problems].filter(Boolean).join('; ');
  return { ...response, jobs, ...(note ? { note } : {}) };
}

const timeOf = (date: Date | undefined) => date?.getTime() ?? 0;

function newestFirst(runs: readonly JobRun[]): JobRun[] {
  return [...runs]
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.run - a.run)
    .slice(0, RUNS_PER_JOB);
}
