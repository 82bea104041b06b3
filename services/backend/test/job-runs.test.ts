import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { DescribeTasksCommand, ECSClient, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import type { JobRun, LocalJobRunsState } from '../../../contracts/job-runs.ts';
import { ACCOUNT_PREFIX } from '../../../test/support/ecs.ts';
import { ecsJobRuns, localJobRuns, withAnomalousLines } from '../src/job-runs.ts';

/**
 * The console's job runs: locally from the runtime's `jobs.json`, on AWS from the job family's ECS tasks
 * (the SDK client is real, its transport mocked; assertions on the commands sent and the shaping).
 */

const JOBS = [
  { name: 'nightly-report', family: 'shop-nightly-report', appContainer: 'app', timeoutExitCode: 124 },
  { name: 'warehouse-sync', family: 'shop-warehouse-sync', appContainer: 'app', timeoutExitCode: 124 },
];

const run = (job: string, n: number, status: JobRun['status'], exitCode: number | null): JobRun => ({
  job,
  run: n,
  trigger: 'schedule',
  status,
  startedAt: `2026-12-07T06:0${n}:00.000Z`,
  endedAt: `2026-12-07T06:0${n}:02.000Z`,
  durationMs: 2000,
  exitCode,
  lines: { received: 8, scored: 6, anomalous: status === 'failed' ? 1 : 0 },
  anomalies: status === 'failed' ? ['Error: connection to the warehouse refused'] : [],
});

describe('job runs, locally', () => {
  it('lists every declared job, its runs newest first, a failed run failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'job-runs-'));
    const file = join(dir, 'jobs.json');
    const state: LocalJobRunsState = {
      updatedAt: '2026-12-07T06:05:00.000Z',
      runs: [run('warehouse-sync', 1, 'failed', 3), run('warehouse-sync', 2, 'succeeded', 0)],
    };
    writeFileSync(file, JSON.stringify(state));
    const answer = await localJobRuns(JOBS, file);
    assert.equal(answer.source, 'local');
    assert.deepEqual(
      answer.jobs.map((j) => [j.job, j.runs.map((r) => [r.run, r.status, r.exitCode])]),
      [
        ['nightly-report', []],
        [
          'warehouse-sync',
          [
            [2, 'succeeded', 0],
            [1, 'failed', 3],
          ],
        ],
      ],
    );
  });

  it('says why there are no runs before the runtime wrote its file, and refuses a file off the contract', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'job-runs-'));
    const missing = await localJobRuns(JOBS, join(dir, 'jobs.json'));
    assert.deepEqual(
      missing.jobs.map((j) => j.runs.length),
      [0, 0],
    );
    assert.equal(missing.note, 'no run yet');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ updatedAt: 'x', runs: [{ job: 1 }] }));
    await assert.rejects(
      localJobRuns(JOBS, join(dir, 'bad.json')),
      /does not match the contract \(runs\.0\.job/,
    );
  });
});

describe('job runs, on AWS (ECS tasks of the job family)', () => {
  const ecs = mockClient(ECSClient);
  beforeEach(() => ecs.reset());
  const NOW = Date.UTC(2026, 11, 7, 7, 0, 0);
  const taskArn = (id: string) => `${ACCOUNT_PREFIX}:task/shop/${id}`;
  const task = (id: string, family: string, fields: Partial<Task>): Task => ({
    taskArn: taskArn(id),
    group: `family:${family}`,
    taskDefinitionArn: `${ACCOUNT_PREFIX}:task-definition/${family}:4`,
    createdAt: new Date(NOW - 600_000),
    ...fields,
  });

  it('maps each stopped or running task to a run: the app exit code, the deadline, a start that failed', async () => {
    ecs.on(ListTasksCommand).callsFake((input: { family: string; desiredStatus: string }) => ({
      taskArns:
        input.family === 'shop-warehouse-sync'
          ? input.desiredStatus === 'STOPPED'
            ? [taskArn('a'), taskArn('b'), taskArn('c')]
            : []
          : input.desiredStatus === 'RUNNING'
            ? [taskArn('d')]
            : [],
    }));
    ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({
      tasks: [
        task('a', 'shop-warehouse-sync', {
          lastStatus: 'STOPPED',
          createdAt: new Date(NOW - 301_000),
          startedAt: new Date(NOW - 300_000),
          stoppedAt: new Date(NOW - 290_000),
          stopCode: 'EssentialContainerExited',
          containers: [
            { name: 'log-router', exitCode: 0 },
            { name: 'app', exitCode: 3 },
            { name: 'deadline', exitCode: 0 },
          ],
        }),
        task('b', 'shop-warehouse-sync', {
          lastStatus: 'STOPPED',
          createdAt: new Date(NOW - 201_000),
          startedAt: new Date(NOW - 200_000),
          stoppedAt: new Date(NOW - 140_000),
          stopCode: 'EssentialContainerExited',
          containers: [
            { name: 'app', exitCode: 143 },
            { name: 'deadline', exitCode: 124 },
          ],
        }),
        task('c', 'shop-warehouse-sync', {
          lastStatus: 'STOPPED',
          createdAt: new Date(NOW - 101_000),
          stopCode: 'TaskFailedToStart',
          stoppedReason: 'RESOURCE:ENI',
          stoppedAt: new Date(NOW - 100_000),
          containers: [{ name: 'app' }],
        }),
        task('d', 'shop-nightly-report', {
          lastStatus: 'RUNNING',
          startedAt: new Date(NOW - 10_000),
          containers: [{ name: 'app' }],
        }),
      ].filter((t) => input.tasks.includes(t.taskArn!)),
    }));
    const answer = await ecsJobRuns({
      ecs: new ECSClient({ region: 'eu-west-1' }),
      cluster: 'shop',
      jobs: JOBS,
    });
    assert.equal(answer.source, 'aws');
    const shaped = answer.jobs.map((j) => [
      j.job,
      j.runs.map((r) => [r.status, r.exitCode, r.durationMs ?? null, r.reason ?? null, r.lines]),
    ]);
    assert.deepEqual(shaped, [
      ['nightly-report', [['running', null, null, null, null]]],
      [
        'warehouse-sync',
        [
          ['failed', null, null, 'could not start: RESOURCE:ENI', null],
          ['timed-out', 143, 60_000, 'stopped at its timeout', null],
          ['failed', 3, 10_000, null, null],
        ],
      ],
    ]);
    // Each family asked for its stopped and its running tasks, in the cluster.
    const lists = ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input);
    assert.deepEqual(lists.map((i) => [i.cluster, i.family, i.desiredStatus]).sort(), [
      ['shop', 'shop-nightly-report', 'RUNNING'],
      ['shop', 'shop-nightly-report', 'STOPPED'],
      ['shop', 'shop-warehouse-sync', 'RUNNING'],
      ['shop', 'shop-warehouse-sync', 'STOPPED'],
    ]);
    assert.match(answer.note ?? '', /ECS lists a stopped task for about an hour/);
  });
});

describe("job runs, on AWS: each run's anomalous lines from the anomaly records of its task", () => {
  const runOn = (task: string, n: number): JobRun => ({
    ...run('warehouse-sync', n, 'failed', 3),
    lines: null,
    anomalies: [],
    task,
  });
  const response = {
    source: 'aws' as const,
    jobs: [{ job: 'warehouse-sync', runs: [runOn('arn:task/b', 2), runOn('arn:task/a', 1)] }],
  };
  const record = (task: string, line: string) => ({
    id: `${task}-${line}`,
    service: 'warehouse-sync',
    task,
    timestamp: '2026-12-07T06:01:01.000Z',
    score: 0.99,
    line,
  });

  it("lists a run's records by its task ARN, and says so when they cannot be read", async () => {
    const asked: string[][] = [];
    const enriched = await withAnomalousLines(response, {
      recentAnomalies: async (services) => {
        asked.push([...services]);
        return {
          records: [record('arn:task/a', 'Error: refused'), record('arn:task/c', 'other run')],
          unavailable: [],
        };
      },
    });
    assert.deepEqual(asked, [['warehouse-sync']]);
    assert.deepEqual(
      enriched.jobs[0]!.runs.map((r) => [r.run, r.anomalies]),
      [
        [2, []],
        [1, ['Error: refused']],
      ],
    );
    const failed = await withAnomalousLines(response, {
      recentAnomalies: async () => ({
        records: [],
        unavailable: [{ service: 'warehouse-sync', reason: 'throttled' }],
      }),
    });
    assert.match(failed.note ?? '', /anomalous lines of warehouse-sync could not be read: throttled/);
  });
});
