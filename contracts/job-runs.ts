import { z } from 'zod';

/**
 * A scheduled job's runs as the console lists them: what each run did (exit code, duration) and what
 * its sidecar saw in its logs (lines scored, anomalous lines). Locally the runtime writes them to
 * `jobs.json` beside its state file; on AWS the same facts come from the task's stopped event and the
 * run's sidecar metrics.
 */

/** `succeeded`: exit 0; `failed`: a non-zero exit or a run that could not start; `timed-out`: stopped at the timeout. */
export const JobRunStatusSchema = z.enum(['running', 'succeeded', 'failed', 'timed-out']);
export type JobRunStatus = z.infer<typeof JobRunStatusSchema>;

export const JobRunSchema = z.object({
  job: z.string(),
  /** 1, 2, … per job. */
  run: z.number().int().min(1),
  /** What started it: its schedule, or an operator (`--now`). */
  trigger: z.enum(['schedule', 'now']),
  status: JobRunStatusSchema,
  startedAt: z.string(),
  endedAt: z.string().optional(),
  durationMs: z.number().int().nonnegative().optional(),
  /** The app's exit code; null when it was killed by a signal or never started. */
  exitCode: z.number().int().nullable(),
  /** Why it failed, when the exit code does not say (timeout, could not start). */
  reason: z.string().optional(),
  /** The run's log lines as its sidecar counted them; null when the job is not scored. */
  lines: z
    .object({ received: z.number().int(), scored: z.number().int(), anomalous: z.number().int() })
    .nullable(),
  /** Its anomalous lines (at most 20), as the sidecar flagged them. */
  anomalies: z.array(z.string()),
  /** On AWS, the run's ECS task ARN (its anomaly records carry it). */
  task: z.string().optional(),
});
export type JobRun = z.infer<typeof JobRunSchema>;

/** `jobs.json`: the latest runs of every job, newest last. */
export const LocalJobRunsStateSchema = z.object({
  updatedAt: z.string(),
  runs: z.array(JobRunSchema),
});
export type LocalJobRunsState = z.infer<typeof LocalJobRunsStateSchema>;

/**
 * The platform's scheduled jobs as the console's API receives them (`JOBS`, written by the wiring): each
 * job's name, its task-definition family (whose tasks are its runs on AWS), the container whose exit code
 * is the run's outcome, and the exit code of the deadline that stops a run at its timeout.
 */
export const JobDirectorySchema = z
  .array(
    z.strictObject({
      name: z.string().min(1),
      family: z.string().min(1),
      appContainer: z.string().min(1),
      timeoutExitCode: z.number().int(),
    }),
  )
  .max(100);
export type JobDirectory = z.infer<typeof JobDirectorySchema>;

/** The variable the job directory travels in. */
export const JOB_DIRECTORY_VARIABLE = 'JOBS';

/** One job's runs, newest first. */
export interface JobRuns {
  readonly job: string;
  readonly runs: readonly JobRun[];
}

/**
 * `GET /api/jobs`: every declared job with its latest runs. Locally from the runtime's `jobs.json`; on AWS
 * from ECS (the job family's tasks: ListTasks, DescribeTasks), where ECS lists a stopped task for about an
 * hour, with each run's anomalous lines matched by task ARN from the anomaly log group; its line counts are
 * not read per run (`lines` null: they are in the job's CloudWatch metrics).
 */
export interface JobsResponse {
  readonly source: 'local' | 'aws';
  readonly jobs: readonly JobRuns[];
  /** Why runs may be missing (no state file yet, ECS's retention of stopped tasks). */
  readonly note?: string;
}
