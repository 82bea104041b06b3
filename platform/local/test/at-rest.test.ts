import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backendUrlOf, faultRequest } from '../fault-cli.ts';
import type { RuntimeState } from '../platform.ts';
import { groupAlive } from '../supervisor.ts';

/**
 * At rest, end to end: `npm start -- --demo-traffic` (the real model server, services, sidecars and
 * the shipped default artifact) runs for 60 s with client-caused errors mixed in, and lists no
 * anomaly; then a fault burst is listed within 5 s. `AT_REST_SECONDS` shortens the quiet period when
 * iterating locally (the issue's figure is 60).
 */

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
const QUIET_SECONDS = Number(process.env.AT_REST_SECONDS ?? 60);
const stateFile = join(tmpdir(), `local-at-rest-${process.pid}.json`);

type Listed = { records: Array<{ service: string; line: string; score: number; reasons?: string[] }> };
type Series = { points: Array<{ scored: number; anomalous: number }> };

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('npm start at rest: quiet when healthy, loud on a fault', {
  timeout: 60_000 + QUIET_SECONDS * 1000,
}, () => {
  let supervisor: ChildProcess;
  let output = '';
  let web = '';

  before(async () => {
    supervisor = spawn(
      process.execPath,
      ['--import', 'tsx', 'platform/cli/main.ts', 'start', '--demo-traffic'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          WEB_PORT: '0',
          API_PORT: '0',
          MODEL_PORT: '0',
          LOCAL_STATE_FILE: stateFile,
          NO_COLOR: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    supervisor.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    supervisor.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const ready = await waitFor('ready line', 60_000, async () => {
      if (supervisor.exitCode !== null) throw new Error(`npm start exited:\n${output.slice(-4000)}`);
      return /^ready web=(\S+)\/ api=/m.exec(output) ?? undefined;
    });
    web = ready[1]!;
  });

  after(() => {
    if (supervisor.exitCode === null && supervisor.signalCode === null) supervisor.kill('SIGTERM');
    // Whatever is left of the run (the supervisor stops its groups on SIGTERM; this is the backstop).
    setTimeout(() => {
      if (!existsSync(stateFile)) return;
      const state = JSON.parse(readFileSync(stateFile, 'utf8')) as RuntimeState;
      for (const p of state.processes)
        for (const g of p.processGroups) if (groupAlive(g)) process.kill(-g, 'SIGKILL');
      rmSync(stateFile, { force: true });
    }, 8000).unref();
  });

  const listed = async (service?: string) => {
    const r = await fetch(`${web}/api/anomalies?limit=200${service ? `&service=${service}` : ''}`);
    assert.equal(r.status, 200);
    return (await r.json()) as Listed;
  };
  const scored = async (service: string) => {
    const r = await fetch(`${web}/api/services/${service}/series?bucketSeconds=10&buckets=60`);
    const body = (await r.json()) as Series;
    return body.points.reduce((n, p) => n + p.scored, 0);
  };

  it(`lists zero anomalies after ${QUIET_SECONDS} s of demo traffic, health checks and client errors`, async () => {
    const until = Date.now() + QUIET_SECONDS * 1000;
    const clientErrors = [
      () => fetch(`${web}/api/services/no-such-service/series`),
      () => fetch(`${web}/api/anomalies?limit=banana`),
      () =>
        fetch(`${web}/api/predict`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }),
      () =>
        fetch(`${web}/api/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{',
        }),
      () => fetch(`${web}/no/such/page.php`),
    ];
    let sent = 0;
    const statuses = new Set<number>();
    while (Date.now() < until) {
      const response = await clientErrors[sent++ % clientErrors.length]!();
      await response.arrayBuffer();
      statuses.add(response.status);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(
      [...statuses].some((s) => s >= 400 && s < 500),
      `client errors answered ${[...statuses]}`,
    );
    // Every line written so far has reached the model: the sidecars' batches are at most 1 s old.
    await new Promise((r) => setTimeout(r, 1500));
    const { records } = await listed();
    assert.deepEqual(
      records.map((r) => `${r.service} ${r.score} ${r.reasons?.join(',')} ${r.line.slice(0, 160)}`),
      [],
    );
    // Quiet because nothing was wrong, not because nothing was scored.
    assert.ok((await scored('backend')) > QUIET_SECONDS, 'backend lines were scored');
    assert.ok((await scored('frontend')) > QUIET_SECONDS, 'frontend lines were scored');
    console.error(
      `at rest: ${records.length} anomalies listed after ${QUIET_SECONDS} s, ${sent} client errors sent`,
    );
  });

  it('lists a fault burst within 5 s', async () => {
    // What `npm run fault -- burst 20` sends, sent from here so the clock does not include the
    // CLI's own start-up (a tsx process).
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as RuntimeState;
    const request = faultRequest(['burst', '20']);
    const t0 = Date.now();
    const response = await fetch(`${backendUrlOf(state)}${request.path}`, {
      method: request.method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request.body),
    });
    assert.deepEqual(await response.json(), { logged: 20 });
    const found = await waitFor('the burst is listed', 5000, async () => {
      const { records } = await listed('backend');
      return records.some((r) => r.line.includes('unhandled error burst')) ? records : undefined;
    });
    const elapsed = Date.now() - t0;
    assert.ok(elapsed <= 5000, `listed after ${elapsed} ms`);
    assert.ok(
      found.every((r) => r.line.includes('unhandled error burst')),
      'only the fault is listed',
    );
    console.error(`fault burst → listed: ${elapsed} ms`);
  });
});
