import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type LocalAlb, startLocalAlb } from '../alb.ts';
import { EdgeFault } from '../edge-fault.ts';
import type { ProcessPlan } from '../process-plan.ts';
import { ServiceRevisions } from '../revisions.ts';
import { RuntimeFaults } from '../runtime-faults.ts';
import type { Unit } from '../unit.ts';

/**
 * The edge fault's rules, on their own: RATE drawn per request, off after its duration; only the
 * revision in service fails (a deployment's new revision is judged on its own answers) and the fault
 * follows once the old revision is gone; the proxy answers 500 in the error shape without forwarding
 * and counts it as the target's 5xx; a worker's failures are paced at RATE × 10 a second.
 */

/** A unit that records the lines written into its log stream. */
function fakeUnit(label: string, port: number | null): Unit & { written: string[] } {
  const written: string[] = [];
  return {
    plan: { label, role: 'service', service: label.split('@')[0], port } as unknown as ProcessPlan,
    healthy: true,
    written,
    writeLog: (lines: readonly string[]) => {
      written.push(...lines);
      return true;
    },
  } as unknown as Unit & { written: string[] };
}

describe('EdgeFault', () => {
  it('fails the drawn share of requests while on, and switches itself off after its duration', () => {
    let now = 1_000_000;
    const draws = [0.1, 0.6, 0.29, 0.3];
    const fault = new EdgeFault(
      () => draws.shift()!,
      () => now,
    );
    assert.equal(fault.draw(), false, 'off: nothing fails');
    assert.deepEqual(fault.set(0.3, 300), {
      errorRate: 0.3,
      expiresAt: new Date(1_300_000).toISOString(),
      failed: 0,
    });
    assert.deepEqual([fault.draw(), fault.draw(), fault.draw(), fault.draw()], [true, false, true, false]);
    now = 1_300_000;
    assert.equal(fault.draw(), false, 'expired');
    assert.deepEqual(fault.settings(), { errorRate: 0, expiresAt: null, failed: 0 });
  });
});

describe('the revision in service fails, and the fault follows a completed deployment', () => {
  it('fails requests to the old revision only while a new one is rehearsed, then the new one', () => {
    const revisions = new ServiceRevisions('orders', () => 0);
    const first = fakeUnit('orders', 4000);
    const second = fakeUnit('orders@2', 5000);
    const one = revisions.add({ id: 1, app: first, sidecar: undefined, weight: 100, startedAt: 0 });
    revisions.fault.set(1, 300);
    revisions.add({ id: 2, app: second, sidecar: undefined, weight: 0, startedAt: 0 });
    revisions.shift(new Map([[2, 100]]));
    // All traffic on the new revision mid-deployment: not failed, it is judged on its own answers.
    assert.equal(revisions.pick()?.injectFailure, undefined);
    revisions.remove(one);
    const target = revisions.pick();
    assert.equal(target?.port, 5000);
    target?.injectFailure?.({ method: 'GET', path: '/orders/7' });
    assert.equal(
      second.written[0],
      'Error: GET /orders/7 failed: read ECONNRESET from the upstream (rehearsed by berth fault)',
    );
    assert.match(second.written[1] ?? '', /^ {4}at /);
    assert.deepEqual(first.written, []);
    assert.equal(revisions.fault.settings().failed, 1);
  });
});

describe('the local ALB answering an injected failure', () => {
  let alb: LocalAlb;
  let reached = 0;
  const seen: number[] = [];
  const failures: string[] = [];
  let target: { port: number; server: import('node:http').Server };
  before(async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => {
      reached += 1;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    target = { port: (server.address() as AddressInfo).port, server };
    alb = await startLocalAlb({
      rules: [{ service: 'orders', paths: [], priority: 0 }],
      port: 0,
      targetOf: () => ({
        port: target.port,
        healthy: true,
        onResponse: (status) => seen.push(status),
        injectFailure: ({ method, path }) => failures.push(`${method} ${path}`),
      }),
    });
  });
  after(async () => {
    await alb.close();
    target.server.close();
  });

  it('answers 500 in the error shape itself, counts the 5xx, logs the request, forwards nothing', async () => {
    const answer = await fetch(`${alb.url}/orders?id=1`, { method: 'POST', body: 'x'.repeat(10_000) });
    assert.equal(answer.status, 500);
    assert.deepEqual(await answer.json(), {
      error: { code: 'internal', message: 'internal error (a failure rehearsed by fault orders on)' },
    });
    // The same connection carries the next request (the body was read and dropped).
    assert.equal((await fetch(`${alb.url}/again`)).status, 500);
    assert.deepEqual(failures, ['POST /orders', 'GET /again']);
    assert.deepEqual(seen, [500, 500]);
    assert.equal(reached, 0);
  });
});

describe('a worker’s fault: paced error lines', () => {
  it('writes RATE × 10 failures a second into the revision in service, until off', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const revisions = new ServiceRevisions('mailer');
    const worker = fakeUnit('mailer', null);
    revisions.add({ id: 1, app: worker, sidecar: undefined, weight: 100, startedAt: 0 });
    const faults = new RuntimeFaults(new Map([['mailer', revisions]]));
    const state = faults.set('mailer', 0.3, 300);
    assert.equal(state.fails, 'log lines');
    assert.equal(state.revision, 'mailer:1');
    const failures = () => worker.written.filter((l) => l.startsWith('Error: job failed')).length;
    t.mock.timers.tick(10_000);
    assert.equal(failures(), 30, '0.3 × 10 a second for 10 s');
    faults.set('mailer', 0, 300);
    t.mock.timers.tick(10_000);
    assert.equal(failures(), 30, 'none once off');
    faults.close();
  });

  it('names the services for an unknown one', () => {
    const faults = new RuntimeFaults(new Map([['mailer', new ServiceRevisions('mailer')]]));
    assert.throws(() => faults.set('nope', 1, 300), { message: "no service 'nope' (services: mailer)" });
  });
});
