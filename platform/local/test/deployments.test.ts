import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DeploymentWiring, ROLLBACK_POLICY } from '../../wiring/index.ts';
import {
  breachedAlarm,
  type DeploymentDriver,
  MIN_PHASE_MS,
  type RevisionSample,
  RollbackJudge,
  runLocalDeployment,
  trafficPhases,
} from '../deployments.ts';

const wiringOf = (strategy: DeploymentWiring['strategy'], rollbackOn: DeploymentWiring['rollbackOn'] = []) =>
  ({
    strategy,
    rollbackOn,
    shiftsTraffic: strategy.strategy !== 'rolling',
    gateStages: [],
  }) as DeploymentWiring;

/** A driver on a virtual clock: `sleep` advances time; samples come from a script. */
function fakeDriver(samples: (elapsedMs: number) => RevisionSample) {
  let now = 1_000_000;
  const start = now;
  const calls: string[] = [];
  const lines: string[] = [];
  const driver: DeploymentDriver = {
    currentRevision: { id: 1, label: 'svc:1' },
    startRevision: async () => {
      calls.push('start');
      return { id: 2, label: 'svc:2' };
    },
    shift: (weights) => calls.push(`shift ${[...weights].map(([id, w]) => `${id}=${w}`).join(',')}`),
    sample: async () => samples(now - start),
    requests: () => 0,
    stopRevision: async (id) => {
      calls.push(`stop ${id}`);
    },
    sleep: async (ms) => {
      now += ms;
    },
    now: () => now,
    progress: (line) => lines.push(line),
    report: () => {},
  };
  return { driver, calls, lines };
}

const quiet: RevisionSample = { scored: 100, anomalous: 0, requests: 100, errors: 0, healthy: true };

describe('local deployment strategies', () => {
  it('renders each strategy as traffic phases, minutes as seconds, each watched at least MIN_PHASE_MS', () => {
    assert.deepEqual(trafficPhases(wiringOf({ strategy: 'canary', percent: 10, bakeMinutes: 30 })), [
      { percent: 10, watchMs: 30_000 },
      { percent: 100, watchMs: MIN_PHASE_MS / 2 },
    ]);
    assert.deepEqual(
      trafficPhases(wiringOf({ strategy: 'linear', stepPercent: 25, stepMinutes: 1 })).map((p) => p.percent),
      [25, 50, 75, 100],
    );
    assert.deepEqual(trafficPhases(wiringOf({ strategy: 'blue-green', bakeMinutes: 0 })), [
      { percent: 100, watchMs: MIN_PHASE_MS },
    ]);
    assert.deepEqual(
      trafficPhases(wiringOf({ strategy: 'rolling' })).map((p) => p.percent),
      [50, 100],
    );
  });

  it("rolls back only at the wiring's minimum volume (the alarms' and the gate's) and at or above the declared rate", () => {
    const alarms = [
      { kind: 'anomaly-rate', percent: 5 } as const,
      { kind: 'error-rate', percent: 5 } as const,
    ];
    const volume = ROLLBACK_POLICY.minimumVolume;
    assert.deepEqual(volume, { lines: 100, requests: 50 });
    assert.equal(breachedAlarm(alarms, { ...quiet, scored: 99, anomalous: 99 }, volume), undefined);
    assert.equal(
      breachedAlarm(alarms, { ...quiet, scored: 100, anomalous: 5 }, volume),
      'anomaly rate 5.0 % of 100 lines ≥ 5 % (rollbackOn anomaly-rate)',
    );
    assert.equal(breachedAlarm(alarms, { ...quiet, requests: 49, errors: 49 }, volume), undefined);
    assert.equal(
      breachedAlarm(alarms, { ...quiet, requests: 50, errors: 3 }, volume),
      '5xx rate 6.0 % of 50 requests ≥ 5 % (rollbackOn error-rate)',
    );
    assert.equal(
      breachedAlarm([{ kind: 'unhealthy-targets' }], { ...quiet, healthy: false }, volume),
      'the new revision failed its health check (rollbackOn unhealthy-targets)',
    );
    assert.equal(breachedAlarm([], { ...quiet, healthy: false, anomalous: 100 }, volume), undefined);
  });

  it('rolls back once a breach holds in consecutive evaluation periods (minutes as seconds), not on one', () => {
    const judge = new RollbackJudge([{ kind: 'anomaly-rate', percent: 5 }], ROLLBACK_POLICY, 0);
    const bad = { ...quiet, anomalous: 10 };
    // One period is 60 s declared, 1 s rehearsed; two breaching periods in a row are needed.
    assert.equal(judge.observe(bad, 200), undefined);
    assert.equal(judge.observe(bad, 700), undefined, 'the same period counts once');
    assert.equal(judge.observe(quiet, 1200), undefined, 'a quiet period starts the count again');
    assert.equal(judge.observe(bad, 2100), undefined);
    assert.equal(
      judge.observe(bad, 3000),
      'anomaly rate 10.0 % of 100 lines ≥ 5 % (rollbackOn anomaly-rate)',
    );
  });

  it('a quiet canary completes: 10 %, then 100 %, then the old revision stops', async () => {
    const { driver, calls } = fakeDriver(() => quiet);
    const outcome = await runLocalDeployment(
      'svc',
      wiringOf({ strategy: 'canary', percent: 10, bakeMinutes: 1 }, [{ kind: 'anomaly-rate', percent: 5 }]),
      ROLLBACK_POLICY,
      {},
      driver,
    );
    assert.deepEqual(outcome, { status: 'completed', revision: 'svc:2' });
    assert.deepEqual(calls, ['start', 'shift 1=90,2=10', 'shift 1=0,2=100', 'stop 1']);
  });

  it('an anomalous canary rolls back in the second breaching period: all traffic to the old, the new stopped', async () => {
    const { driver, calls, lines } = fakeDriver((elapsed) =>
      elapsed > 3000 ? { ...quiet, anomalous: 30, firstAnomalousAt: 1_002_500 } : quiet,
    );
    const outcome = await runLocalDeployment(
      'svc',
      wiringOf({ strategy: 'canary', percent: 10, bakeMinutes: 60 }, [{ kind: 'anomaly-rate', percent: 5 }]),
      ROLLBACK_POLICY,
      {},
      driver,
    );
    assert.equal(outcome.status, 'rolled-back');
    assert.ok(outcome.status === 'rolled-back' && outcome.trafficBackAt === outcome.decidedAt);
    assert.deepEqual(calls, ['start', 'shift 1=90,2=10', 'shift 1=100', 'stop 2']);
    assert.ok(lines.some((l) => l.startsWith('svc: first anomalous line of svc:2 at 1002500')));
    assert.ok(
      lines.some(
        (l) =>
          l ===
          'svc: ROLLING BACK svc:2: anomaly rate 30.0 % of 100 lines ≥ 5 % (rollbackOn anomaly-rate) (4.0s)',
      ),
    );
  });

  it("judges the new revision at the wiring's gate stages: before production traffic and after all of it", async () => {
    // Bad only in the last moment of the full shift: one breaching period is not enough for the alarms, the
    // stage after the production shift judges that sample on its own and fails it.
    const { driver, lines } = fakeDriver((elapsed) =>
      elapsed >= 11800 ? { ...quiet, requests: 60, errors: 60 } : quiet,
    );
    const deployment = {
      ...wiringOf({ strategy: 'canary', percent: 10, bakeMinutes: 0 }, [{ kind: 'error-rate', percent: 5 }]),
      gateStages: ROLLBACK_POLICY.gateStages,
    };
    const outcome = await runLocalDeployment('svc', deployment, ROLLBACK_POLICY, {}, driver);
    assert.deepEqual(
      lines.filter((l) => l.includes(' gate ')),
      [
        'svc: gate POST_TEST_TRAFFIC_SHIFT: 100 lines, 100 requests of svc:2 (judged from 100 lines / 50 requests): passed',
        'svc: gate POST_PRODUCTION_TRAFFIC_SHIFT: 100 lines, 60 requests of svc:2 (judged from 100 lines / 50 requests): 5xx rate 100.0 % of 60 requests ≥ 5 % (rollbackOn error-rate)',
      ],
    );
    assert.equal(outcome.status, 'rolled-back');
    assert.equal(
      outcome.status === 'rolled-back' && outcome.reason,
      '5xx rate 100.0 % of 60 requests ≥ 5 % (rollbackOn error-rate) at POST_PRODUCTION_TRAFFIC_SHIFT',
    );
  });

  it('a revision that never becomes healthy fails the deployment and leaves the old one untouched', async () => {
    const { driver, calls } = fakeDriver(() => quiet);
    driver.startRevision = async () => {
      throw new Error('svc:2 did not become healthy within 60s');
    };
    const outcome = await runLocalDeployment(
      'svc',
      wiringOf({ strategy: 'rolling' }),
      ROLLBACK_POLICY,
      {},
      driver,
    );
    assert.deepEqual(outcome, { status: 'failed', reason: 'svc:2 did not become healthy within 60s' });
    assert.deepEqual(calls, []);
  });
});
