import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RevisionCounts } from '../../../contracts/revision-counts.ts';
import { type DeploymentWiring, ROLLBACK_POLICY } from '../../wiring/index.ts';
import {
  type DeploymentDriver,
  type LocalDeploymentOutcome,
  type LocalDeploymentState,
  runLocalDeployment,
} from '../deployments.ts';
import {
  breachedAlarm,
  localDeadlineMs,
  MIN_PHASE_MS,
  rehearsalStages,
  trafficPhases,
} from '../rehearsal-stages.ts';

/**
 * The rehearsal's core on a virtual clock: a simulated service whose routes send traffic to the
 * revisions by their weights, each route failing (5xx, an anomalous request line and a stack trace) at
 * its own rate per revision; probes hit the new revision's own port. The gate's real decision judges it.
 */

const wiringOf = (
  strategy: DeploymentWiring['strategy'],
  options: Partial<DeploymentWiring> = {},
): DeploymentWiring => ({
  strategy,
  probes: ['/healthz', '/api/deployments'],
  onScorerOutage: 'judge-on-errors',
  rollbackOn: [],
  shiftsTraffic: strategy.strategy !== 'rolling',
  testTraffic: false,
  gateStages: [],
  pause: null,
  ...options,
});

/** One route of the simulated service. */
interface Route {
  readonly name: string;
  readonly perSecond: number;
  /** Share of its requests that fail on the new revision (0 on the old). */
  readonly failNew?: number;
}

interface Tallies {
  received: number;
  scored: number;
  anomalous: number;
  scorerFailures: number;
  classes: Map<string, [number, number, number, number]>;
  lb: { bad: number; total: number };
}

/** A service on a virtual clock: traffic by weight, probes on the new revision, readings as the driver gives them. */
function simulation(options: {
  readonly routes: readonly Route[];
  /** Share of probe requests that fail on the new revision, by path. */
  readonly probeFailures?: Readonly<Record<string, number>>;
  /** The new revision's sidecar never receives a line (broken logging). */
  readonly silent?: boolean;
  /** The model endpoint fails every call: lines arrive, none is scored. */
  readonly scorerDown?: boolean;
}) {
  let now = 1_000_000;
  const weights = new Map<number, number>([[1, 100]]);
  const tallies = new Map<number, Tallies>();
  const fresh = (): Tallies => ({
    received: 0,
    scored: 0,
    anomalous: 0,
    scorerFailures: 0,
    classes: new Map(),
    lb: { bad: 0, total: 0 },
  });
  tallies.set(1, fresh());
  const calls: string[] = [];
  const lines: string[] = [];
  const states: LocalDeploymentState[] = [];
  let healthyNew = true;
  const probed = new Map<string, number>();

  /** `n` requests of one class on revision `id`, `failed` of them 5xx (each also a stack-trace line). */
  const add = (id: number, name: string, n: number, failed: number, viaLb: boolean) => {
    const t = tallies.get(id)!;
    const newRevision = id !== 1;
    if (viaLb) {
      t.lb.total += n;
      t.lb.bad += failed;
    }
    if (newRevision && options.silent) return;
    const cls = t.classes.get(name) ?? [0, 0, 0, 0];
    const other = t.classes.get('(other lines)') ?? [0, 0, 0, 0];
    t.received += n + failed;
    cls[2] += n;
    cls[3] += failed;
    if (newRevision && options.scorerDown) {
      t.scorerFailures += 1;
    } else {
      t.scored += n + failed;
      t.anomalous += 2 * failed;
      cls[0] += n;
      cls[1] += failed;
      other[0] += failed;
      other[1] += failed;
    }
    t.classes.set(name, cls);
    if (failed > 0) t.classes.set('(other lines)', other);
  };
  const carry = new Map<string, number>();
  const advance = (ms: number) => {
    for (const route of options.routes) {
      for (const [id, weight] of weights) {
        if (weight === 0) continue;
        const key = `${route.name}|${id}`;
        const exact = (carry.get(key) ?? 0) + (route.perSecond * ms * weight) / 100_000;
        const n = Math.floor(exact);
        carry.set(key, exact - n);
        const failed = id === 1 ? 0 : Math.round(n * (route.failNew ?? 0));
        add(id, route.name, n, failed, true);
      }
    }
    now += ms;
  };
  const read = (t: Tallies): RevisionCounts => ({
    received: t.received,
    scored: t.scored,
    anomalous: t.anomalous,
    scorerFailures: t.scorerFailures,
    classes: Object.fromEntries(
      [...t.classes].map(([name, c]) => [name, [...c] as [number, number, number, number]]),
    ),
  });

  // The old revision has served a minute already: its history is the baseline.
  advance(60_000);
  const driver: DeploymentDriver = {
    currentRevision: { id: 1, label: 'svc:1' },
    startRevision: async (env) => {
      calls.push('start');
      tallies.set(2, fresh());
      weights.set(2, 0);
      return { id: 2, label: 'svc:2', environment: { set: { ...env }, unset: [] } };
    },
    shift: (next) => {
      calls.push(`shift ${[...next].map(([id, w]) => `${id}=${w}`).join(',')}`);
      for (const id of weights.keys()) weights.set(id, next.get(id) ?? 0);
    },
    read: async (id) => ({
      counts: read(tallies.get(id)!),
      loadBalancer: { ...tallies.get(id)!.lb },
      healthy: id === 1 || healthyNew,
    }),
    probe: async (id, paths, count, offset) => {
      let errors = 0;
      for (let i = 0; i < count; i++) {
        const path = paths[(offset + i) % paths.length]!;
        const share = options.probeFailures?.[path] ?? 0;
        // Deterministic: every 1/share-th probe of a failing path fails.
        const nth = (probed.get(path) ?? 0) + 1;
        probed.set(path, nth);
        const fails = share > 0 && nth % Math.round(1 / share) === 0 ? 1 : 0;
        errors += fails;
        add(id, `GET ${path}`, 1, fails, true);
      }
      calls.push(`probe ${count}`);
      return { sent: count, answered: count, errors };
    },
    requests: (id) => tallies.get(id)?.lb.total ?? 0,
    stopRevision: async (id) => {
      calls.push(`stop ${id}`);
      weights.delete(id);
    },
    sleep: async (ms) => advance(ms),
    now: () => now,
    progress: (line) => lines.push(line),
    report: (state) => states.push(state),
  };
  return {
    driver,
    calls,
    lines,
    states,
    setHealthy: (healthy: boolean) => {
      healthyNew = healthy;
    },
  };
}

const plan = (deployment: DeploymentWiring, kind: 'web' | 'internal' = 'internal', env = {}) => ({
  service: 'svc',
  kind,
  deployment,
  policy: ROLLBACK_POLICY,
  env,
});
const steady: Route[] = [
  { name: 'GET /api/services', perSecond: 4 },
  { name: 'GET /', perSecond: 4 },
];
const rolledBack = (outcome: LocalDeploymentOutcome) => {
  assert.equal(outcome.status, 'rolled-back', JSON.stringify(outcome));
  return outcome as Extract<LocalDeploymentOutcome, { status: 'rolled-back' }>;
};

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
  });

  it('judges a traffic-shifting deployment on its test route first, then after each production shift', () => {
    assert.deepEqual(
      rehearsalStages(wiringOf({ strategy: 'canary', percent: 10, bakeMinutes: 1 })).map((s) => [
        s.stage,
        s.percent,
      ]),
      [
        ['POST_TEST_TRAFFIC_SHIFT', 0],
        ['POST_PRODUCTION_TRAFFIC_SHIFT', 10],
        ['POST_PRODUCTION_TRAFFIC_SHIFT', 100],
      ],
    );
    assert.deepEqual(
      rehearsalStages(wiringOf({ strategy: 'rolling' })).map((s) => [s.stage, s.percent]),
      [
        ['ROLLING_UPDATE', 50],
        ['ROLLING_UPDATE', 100],
      ],
    );
    // The wiring's deadline (600 s) as seconds would be 10 s; a loaded machine gets 30 s at least.
    assert.equal(localDeadlineMs(ROLLBACK_POLICY), 30_000);
  });

  it('rolls back on a declared alarm only above the wiring minimum volume', () => {
    const alarms = [
      { kind: 'anomaly-rate', percent: 5 } as const,
      { kind: 'error-rate', percent: 5 } as const,
    ];
    const quiet = { scored: 100, anomalous: 0, requests: 100, errors: 0, healthy: true };
    const { lines, requests } = ROLLBACK_POLICY.minimumVolume;
    assert.equal(
      breachedAlarm(
        alarms,
        { ...quiet, scored: lines - 1, anomalous: lines - 1 },
        ROLLBACK_POLICY.minimumVolume,
      ),
      undefined,
    );
    assert.equal(
      breachedAlarm(alarms, { ...quiet, scored: lines, anomalous: 3 }, ROLLBACK_POLICY.minimumVolume),
      `anomaly rate 6.0 % of ${lines} lines ≥ 5 % (rollbackOn anomaly-rate)`,
    );
    assert.equal(
      breachedAlarm(alarms, { ...quiet, requests, errors: 3 }, ROLLBACK_POLICY.minimumVolume),
      '5xx rate 15.0 % of 20 requests ≥ 5 % (rollbackOn error-rate)',
    );
    assert.equal(
      breachedAlarm(
        [{ kind: 'unhealthy-targets' }],
        { ...quiet, healthy: false },
        ROLLBACK_POLICY.minimumVolume,
      ),
      'the new revision failed its health check (rollbackOn unhealthy-targets)',
    );
  });
});

describe('the rehearsal judged by the gate (virtual clock, simulated traffic)', () => {
  it('a good canary completes: test route on probes, then 10 %, then 100 %, the old revision stopped', async () => {
    const sim = simulation({ routes: steady });
    const outcome = await runLocalDeployment(
      plan(wiringOf({ strategy: 'canary', percent: 10, bakeMinutes: 1 }), 'web'),
      sim.driver,
    );
    assert.deepEqual(outcome, { status: 'completed', revision: 'svc:2' });
    assert.deepEqual(
      sim.calls.filter((c) => !c.startsWith('probe')),
      ['start', 'shift 1=100,2=0', 'shift 1=90,2=10', 'shift 1=0,2=100', 'stop 1'],
    );
    const final = sim.states.at(-1)!;
    assert.deepEqual(
      final.judgements.map((j) => [j.stage, j.trafficPercent, j.verdict]),
      [
        ['POST_PRODUCTION_TRAFFIC_SHIFT', 100, 'SUCCEEDED'],
        ['POST_PRODUCTION_TRAFFIC_SHIFT', 10, 'SUCCEEDED'],
        ['POST_TEST_TRAFFIC_SHIFT', 0, 'SUCCEEDED'],
      ],
    );
  });

  it('an idle bad release is rolled back on its probes, and the reason names them', async () => {
    const sim = simulation({ routes: [], probeFailures: { '/api/deployments': 0.5 } });
    const outcome = rolledBack(
      await runLocalDeployment(
        plan(wiringOf({ strategy: 'rolling' }), 'internal', { FAULT_ERROR_RATE: '0.5' }),
        sim.driver,
      ),
    );
    assert.match(outcome.reason, /^gate worse: errors on GET \/api\/deployments: 50\.0 %/);
    assert.match(outcome.reason, /probes: \d+ of \d+ answered \(GET \/healthz, GET \/api\/deployments\)$/);
    assert.deepEqual(sim.calls.at(-1), 'stop 2');
  });

  it('a declared alarm that rolls back before the gate does is the judgement the console shows', async () => {
    const sim = simulation({ routes: steady });
    sim.setHealthy(false);
    const outcome = rolledBack(
      await runLocalDeployment(
        plan(wiringOf({ strategy: 'rolling' }, { rollbackOn: [{ kind: 'unhealthy-targets' }] })),
        sim.driver,
      ),
    );
    const alarm = 'the new revision failed its health check (rollbackOn unhealthy-targets)';
    assert.equal(outcome.reason, alarm);
    const [last] = sim.states.at(-1)!.judgements;
    assert.deepEqual([last?.verdict, last?.rule, last?.reason], ['FAILED', 'declared rollback alarm', alarm]);
    assert.deepEqual(
      last?.revisions.map((r) => [r.role, r.revision]),
      [
        ['new', 'svc:2'],
        ['old', 'svc:1'],
      ],
    );
  });

  it('an idle good release completes on its probes alone', async () => {
    const sim = simulation({ routes: [] });
    const outcome = await runLocalDeployment(plan(wiringOf({ strategy: 'rolling' })), sim.driver);
    assert.deepEqual(outcome, { status: 'completed', revision: 'svc:2' });
    assert.ok(sim.calls.some((c) => c.startsWith('probe')));
  });

  it('dilution: a 30 % fault on one route under 80 requests/s of a healthy one is rolled back, naming the route', async () => {
    const sim = simulation({
      routes: [
        { name: 'GET /api/services', perSecond: 4, failNew: 0.3 },
        { name: 'GET /healthz', perSecond: 80 },
      ],
    });
    const outcome = rolledBack(await runLocalDeployment(plan(wiringOf({ strategy: 'rolling' })), sim.driver));
    assert.match(outcome.reason, /^gate worse: (errors|anomalies) on (GET \/api\/services|\(other lines\))/);
  });

  it('aborts: clients hanging up on a good release (499s) do not roll it back', async () => {
    const sim = simulation({
      // What the services and the local ALB now make of an abort: a request (499 / 460), not a 5xx, not an anomaly.
      routes: [...steady, { name: 'POST /api/predict', perSecond: 100 }],
    });
    const outcome = await runLocalDeployment(
      plan(wiringOf({ strategy: 'canary', percent: 10, bakeMinutes: 1 }), 'web'),
      sim.driver,
    );
    assert.deepEqual(outcome, { status: 'completed', revision: 'svc:2' });
  });

  it('a scorer outage follows the declared policy: judge-on-errors completes, saying so; roll-back rolls back', async () => {
    const judged = simulation({ routes: steady, scorerDown: true });
    const outcome = await runLocalDeployment(plan(wiringOf({ strategy: 'rolling' })), judged.driver);
    assert.deepEqual(outcome, { status: 'completed', revision: 'svc:2' });
    assert.ok(
      judged.lines.some((l) =>
        l.startsWith('svc: gate SUCCEEDED scorer-outage-judged-on-errors: the model endpoint failed'),
      ),
      judged.lines.join('\n'),
    );

    const strict = simulation({ routes: steady, scorerDown: true });
    const back = rolledBack(
      await runLocalDeployment(
        plan(wiringOf({ strategy: 'rolling' }, { onScorerOutage: 'roll-back' })),
        strict.driver,
      ),
    );
    assert.match(
      back.reason,
      /^gate scorer-outage-failed: the model endpoint failed \d+ calls; 0 of \d+ lines of svc:2 scored/,
    );
  });

  it('a revision whose logging is broken is rolled back once lines had time to arrive', async () => {
    const sim = simulation({ routes: steady, silent: true });
    const outcome = rolledBack(await runLocalDeployment(plan(wiringOf({ strategy: 'rolling' })), sim.driver));
    assert.match(
      outcome.reason,
      /^gate logging-broken: svc:2 answered \d+ requests but its sidecar received no line from it/,
    );
  });

  it('a revision that never becomes healthy fails the deployment and leaves the old one untouched', async () => {
    const sim = simulation({ routes: steady });
    sim.driver.startRevision = async () => {
      throw new Error('svc:2 did not become healthy within 60s');
    };
    const outcome = await runLocalDeployment(plan(wiringOf({ strategy: 'rolling' })), sim.driver);
    assert.deepEqual(outcome, { status: 'failed', reason: 'svc:2 did not become healthy within 60s' });
    assert.deepEqual(sim.calls, []);
  });
});
