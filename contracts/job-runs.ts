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
});
export type JobRun = z.infer<typeof JobRunSchema>;

/** `jobs.json`: the latest runs of every job, newest last. */
export const LocalJobRunsStateSchema = z.object({
  updatedAt: z.string(),
  runs: z.array(JobRunSchema),
});
export type LocalJobRunsState = z.infer<typeof LocalJobRunsStateSchema>;
