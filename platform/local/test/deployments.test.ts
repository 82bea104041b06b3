import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeploymentWiring } from '../../wiring/index.ts';
import {
  breachedAlarm,
  type DeploymentDriver,
  MIN_PHASE_MS,
  type RevisionSample,
  runLocalDeployment,
  trafficPhases,
} from '../deployments.ts';

const wiringOf = (strategy: DeploymentWiring['strategy'], rollbackOn: DeploymentWiring['rollbackOn'] = []) =>
  ({
    strategy,
    rollbackOn,
    shiftsTraffic: strategy.strategy !== 'rolling',
    testTraffic: false,
    gateStages: [],
    pause: null,
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

  it('rolls back only above the minimum volume and at or above the declared rate', () => {
    const alarms = [
      { kind: 'anomaly-rate', percent: 5 } as const,
      { kind: 'error-rate', percent: 5 } as const,
    ];
    assert.equal(breachedAlarm(alarms, { ...quiet, scored: 10, anomalous: 10 }), undefined);
    assert.equal(
      breachedAlarm(alarms, { ...quiet, scored: 40, anomalous: 2 }),
      'anomaly rate 5.0 % of 40 lines ≥ 5 % (rollbackOn anomaly-rate)',
    );
    assert.equal(
      breachedAlarm(alarms, { ...quiet, requests: 20, errors: 3 }),
      '5xx rate 15.0 % of 20 requests ≥ 5 % (rollbackOn error-rate)',
    );
    assert.equal(
      breachedAlarm([{ kind: 'unhealthy-targets' }], { ...quiet, healthy: false }),
      'the new revision failed its health check (rollbackOn unhealthy-targets)',
    );
    assert.equal(breachedAlarm([], { ...quiet, healthy: false, anomalous: 100 }), undefined);
  });

  it('a quiet canary completes: 10 %, then 100 %, then the old revision stops', async () => {
    const { driver, calls } = fakeDriver(() => quiet);
    const outcome = await runLocalDeployment(
      'svc',
      wiringOf({ strategy: 'canary', percent: 10, bakeMinutes: 1 }, [{ kind: 'anomaly-rate', percent: 5 }]),
      {},
      driver,
    );
    assert.deepEqual(outcome, { status: 'completed', revision: 'svc:2' });
    assert.deepEqual(calls, ['start', 'shift 1=90,2=10', 'shift 1=0,2=100', 'stop 1']);
  });

  it('an anomalous canary rolls back at the first breaching sample: all traffic to the old, the new stopped', async () => {
    const { driver, calls, lines } = fakeDriver((elapsed) =>
      elapsed > 3000 ? { ...quiet, anomalous: 30, firstAnomalousAt: 1_002_500 } : quiet,
    );
    const outcome = await runLocalDeployment(
      'svc',
      wiringOf({ strategy: 'canary', percent: 10, bakeMinutes: 60 }, [{ kind: 'anomaly-rate', percent: 5 }]),
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
          'svc: ROLLING BACK svc:2: anomaly rate 30.0 % of 100 lines ≥ 5 % (rollbackOn anomaly-rate) (3.5s)',
      ),
    );
  });

  it('a revision that never becomes healthy fails the deployment and leaves the old one untouched', async () => {
    const { driver, calls } = fakeDriver(() => quiet);
    driver.startRevision = async () => {
      throw new Error('svc:2 did not become healthy within 60s');
    };
    const outcome = await runLocalDeployment('svc', wiringOf({ strategy: 'rolling' }), {}, driver);
    assert.deepEqual(outcome, { status: 'failed', reason: 'svc:2 did not become healthy within 60s' });
    assert.deepEqual(calls, []);
  });
});
