import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProcessPlan } from '../process-plan.ts';
import { revisionDriver } from '../revision-driver.ts';
import { ServiceRevisions } from '../revisions.ts';
import type { Unit } from '../unit.ts';

/**
 * Rehearsal state per revision (issue 24): `--env` applies to the revision it was given for, `KEY=`
 * unsets a declared variable, every revision starts from the declared environment, and a label is never
 * given twice (a rolled-back `backend:2` is not the next release's name).
 */

const plan = (label: string, env: Record<string, string>): ProcessPlan =>
  ({
    label,
    role: 'service',
    service: 'backend',
    entry: 'services/backend/main.ts',
    port: 18081,
    env,
    health: {
      url: 'http://127.0.0.1:18081/healthz',
      intervalMs: 1000,
      timeoutMs: 1000,
      unhealthyThreshold: 3,
      startPeriodMs: 0,
    },
    stopTimeoutMs: 1000,
  }) as unknown as ProcessPlan;

/** A unit that is healthy at once and records its plan: the driver's view of a process. */
function fakeUnit(p: ProcessPlan): Unit {
  return {
    plan: p,
    healthy: true,
    forwarder: undefined,
    proc: { pid: 1, restarts: 0 },
    start: () => {},
    waitHealthy: async () => true,
    stop: async () => {},
  } as unknown as Unit;
}

function runtime() {
  const revisions = new ServiceRevisions('backend');
  const declared = { LOG_LEVEL: 'info', FEATURE_X: 'on', PORT: '18081' };
  revisions.add({
    id: 1,
    app: fakeUnit(plan('backend', declared)),
    sidecar: undefined,
    weight: 100,
    startedAt: 0,
  });
  const started: ProcessPlan[] = [];
  const driver = () =>
    revisionDriver({
      revisions,
      createUnit: (p) => {
        started.push(p);
        return fakeUnit(p);
      },
      progress: () => {},
      report: () => {},
      startTimeoutMs: 1000,
    });
  return { revisions, started, driver };
}

describe('rehearsal state per revision', () => {
  it('never gives a label twice: after backend:2 is rolled back, the next release is backend:3', async () => {
    const { revisions, driver } = runtime();
    const second = await driver().startRevision({});
    assert.equal(second.label, 'backend:2');
    await driver().stopRevision(second.id);
    assert.equal((await driver().startRevision({})).label, 'backend:3');
    assert.deepEqual(
      revisions.all.map((r) => r.label),
      ['backend:1', 'backend:3'],
    );
  });

  it('applies --env to its revision only, KEY= unsets, and every revision starts from the declared environment', async () => {
    const { revisions, started, driver } = runtime();
    const faulty = await driver().startRevision({ FAULT_ERROR_RATE: '0.5', FEATURE_X: '' });
    revisions.shift(new Map([[faulty.id, 100]]));
    // The faulty revision now serves everything; the next release must not inherit its variables.
    await driver().startRevision({ LOG_LEVEL: 'debug' });

    const [first, second] = started.map((p) => p.env);
    assert.equal(first?.FAULT_ERROR_RATE, '0.5');
    assert.equal('FEATURE_X' in (first ?? {}), false, 'FEATURE_X= unsets the declared variable');
    assert.equal(second?.FAULT_ERROR_RATE, undefined);
    assert.equal(second?.FEATURE_X, 'on');
    assert.equal(second?.LOG_LEVEL, 'debug');
  });

  it('describes each revision by its difference from the declared environment', async () => {
    const { revisions, driver } = runtime();
    const next = await driver().startRevision({ FAULT_ERROR_RATE: '0.5', FEATURE_X: '', LOG_LEVEL: 'info' });
    assert.deepEqual(revisions.all.find((r) => r.id === next.id)?.environment, {
      set: { FAULT_ERROR_RATE: '0.5' },
      unset: ['FEATURE_X'],
    });
    assert.deepEqual(revisions.all.find((r) => r.id === 1)?.environment, { set: {}, unset: [] });
  });
});
