import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  App,
  Image,
  ModelEndpoint,
  Platform,
  Schedule,
  ScheduledJob,
  WebService,
} from '../../../config/index.ts';
import { type JobRun, LocalJobRunsStateSchema } from '../../../contracts/job-runs.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { wirePlatform } from '../../wiring/index.ts';
import { type RunningPlatform, startPlatform } from '../platform.ts';

/**
 * Scheduled jobs under `start`: the real model server and the real sidecar score each run. Schedule time
 * runs 60 times faster, so `rate(5 minutes)` fires every 5 s.
 */

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
const SERVICE = 'platform/local/test/fixtures/http-service.ts';
const JOB = 'platform/local/test/fixtures/job.ts';
const TIME_SCALE = 60;

function jobsManifest() {
  const app = new App();
  const platform = new Platform(app, 'demo', { capacity: { instanceTypes: ['t3.medium', 't3a.medium'] } });
  new ModelEndpoint(platform, 'log-anomaly', {
    image: Image.fromDockerfile('Dockerfile.model', { entry: 'model/serve/main.ts' }),
    artifactDir: 'model/artifacts/default',
  });
  new WebService(platform, 'site', {
    image: Image.fromDockerfile('D', { entry: SERVICE }),
    port: 8080,
    anomaly: { enabled: false },
  });
  const job = Image.fromDockerfile('D', { entry: JOB });
  new ScheduledJob(platform, 'report', {
    image: job,
    schedule: Schedule.rate(5, 'minutes'),
    timeoutSeconds: 120,
  });
  new ScheduledJob(platform, 'broken', {
    image: job,
    schedule: Schedule.rate(5, 'minutes'),
    timeoutSeconds: 120,
    environment: { JOB_FAIL: '1' },
  });
  new ScheduledJob(platform, 'slow', {
    image: job,
    schedule: Schedule.cron('0 3 1 1 ? *'),
    timeoutSeconds: 120,
    environment: { JOB_SLEEP_MS: '600000' },
    anomaly: { enabled: false },
  });
  // A team's job in another language: no entry, so its Dockerfile's own command runs (runners.ts).
  new ScheduledJob(platform, 'py-report', {
    image: Image.fromDockerfile('platform/local/test/fixtures/team/report/Dockerfile'),
    schedule: Schedule.cron('0 3 1 1 ? *'),
    timeoutSeconds: 120,
  });
  return app.synth();
}

describe('scheduled jobs under start', () => {
  let platform: RunningPlatform;
  const stateFile = join(tmpdir(), `jobs-runtime-${process.pid}`, 'runtime.json');
  let printed = '';
  const out = new PassThrough();
  out.on('data', (c: Buffer) => {
    printed += c.toString();
  });
  const runsOf = (job: string) => platform.jobRuns().filter((r) => r.job === job && r.status !== 'running');

  before(async () => {
    platform = await startPlatform({
      wiring: wirePlatform(jobsManifest()),
      root: ROOT,
      webPort: 0,
      apiPort: 0,
      modelPort: 0,
      out,
      stateFile,
      readyTimeoutMs: 90_000,
      jobTimeScale: TIME_SCALE,
      parts: {
        sidecarEntry: 'services/anomaly-sidecar/main.ts',
        predictHandler: 'platform/local/test/fixtures/handler.ts#handler',
        lambdaHostEntry: 'platform/local/lambda-host.ts',
      },
    });
  });
  after(async () => {
    await platform?.stop();
  });

  it('fires a 5-second schedule, runs the job to completion and scores every line of the run', async () => {
    await waitFor('two scheduled runs of report', 90_000, () => runsOf('report').length >= 2);
    const [first, second] = runsOf('report') as [JobRun, JobRun];
    assert.equal(first.trigger, 'schedule');
    assert.equal(first.status, 'succeeded');
    assert.equal(first.exitCode, 0);
    assert.ok(first.durationMs !== undefined && first.durationMs > 0);
    // Six lines printed, six received and scored by the run's own sidecar.
    assert.deepEqual(
      { received: first.lines?.received, scored: first.lines?.scored },
      { received: 6, scored: 6 },
    );
    assert.equal(typeof first.lines?.anomalous, 'number');
    // The schedule's clock: runs start a period (5 min, 5 s here) apart, never sooner.
    assert.ok(Date.parse(second.startedAt) - Date.parse(first.startedAt) >= 4900);
    assert.match(printed, /^report#1\s+\| report step 1 of 5/m);
    // The run's sidecar's own output reaches the operator, labelled with the run, as a service's sidecar's.
    assert.match(printed, /^report#1\/sidecar\s+\| \{"level":"info",[^\n]*"msg":"listening"/m);
  });

  it('shows a failing run failed, with its exit code and its scored lines', async () => {
    await waitFor('a scheduled run of broken', 90_000, () => runsOf('broken').length >= 1);
    const [run] = runsOf('broken') as [JobRun];
    assert.equal(run.status, 'failed');
    assert.equal(run.exitCode, 3);
    // Eight lines received; the error and its two stack frames are scored as one event (6 in all).
    assert.equal(run.lines?.received, 8);
    assert.equal(run.lines?.scored, 6);
  });

  it('lists every run in jobs.json beside the state file, in the shape the console reads', () => {
    const saved = LocalJobRunsStateSchema.parse(
      JSON.parse(readFileSync(join(resolve(stateFile, '..'), 'jobs.json'), 'utf8')),
    );
    assert.ok(saved.runs.some((r) => r.job === 'report' && r.status === 'succeeded'));
    assert.ok(saved.runs.some((r) => r.job === 'broken' && r.status === 'failed' && r.exitCode === 3));
  });

  it('runs a job once on demand (--now) and stops it at its timeout, shown timed out', async () => {
    const started = Date.now();
    const run = await platform.runJob('slow');
    assert.equal(run.trigger, 'now');
    assert.equal(run.status, 'timed-out');
    assert.equal(run.reason, 'stopped at its timeout (120 s)');
    assert.equal(run.lines, null);
    // 120 s at the 60× time scale: 2 s. Stopped before its 600 s sleep would end, whatever the load.
    assert.ok(Date.now() - started < 600_000);
    await assert.rejects(platform.runJob('nightly'), {
      message: "no scheduled job 'nightly' (declared: report, broken, slow, py-report)",
    });
  });

  it("runs a team's job in another language as its Dockerfile says, scored like any run", async () => {
    const run = await platform.runJob('py-report');
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    assert.equal(run.exitCode, 0);
    assert.deepEqual(
      { received: run.lines?.received, scored: run.lines?.scored },
      { received: 6, scored: 6 },
    );
    assert.match(
      printed,
      /^py-report\s+\| \[local\] runner: the Dockerfile's own command on the host, in its build context platform\/local\/test\/fixtures\/team\/report\/: python3 report\.py/m,
    );
    assert.match(printed, /^py-report#1\s+\| report done$/m);
  });
});
