import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { RuntimeState } from '../platform.ts';
import { isAlive } from '../process-tree.ts';
import { groupAlive } from '../supervisor.ts';

/**
 * End to end: `platform/cli/main.ts start` (what `npm start` runs) with the real model server, services,
 * sidecars and predict handler, on free ports. Bounded: start-up 60 s, every check ≤ 10 s.
 */

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
const PARTS: Array<[string, string]> = [
  ['model server', 'model/serve/main.ts'],
  ['model artifact', 'model/artifacts/default'],
  ['backend', 'services/backend/main.ts'],
  ['frontend server', 'services/frontend/server/main.ts'],
  ['anomaly sidecar', 'services/anomaly-sidecar/main.ts'],
  ['predict handler', 'functions/predict/handler.ts'],
];
const missing = PARTS.filter(([, path]) => !existsSync(join(ROOT, path)));
const skip =
  missing.length > 0
    ? `SKIPPED, PARTS MISSING: ${missing.map(([name, path]) => `${name} (${path})`).join(', ')}`
    : false;
if (skip) console.error(`\n*** platform/local e2e ${skip} ***\n`);

const stateFile = join(tmpdir(), `local-e2e-${process.pid}.json`);
const run = promisify(execFile);

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const readState = () => JSON.parse(readFileSync(stateFile, 'utf8')) as RuntimeState;

describe('npm start, end to end', { skip, timeout: 180_000 }, () => {
  let supervisor: ChildProcess;
  let output = '';
  let urls: { web: string; api: string };
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  before(async () => {
    supervisor = spawn(process.execPath, ['--import', 'tsx', 'platform/cli/main.ts', 'start'], {
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
    });
    exit = new Promise((r) => supervisor.once('exit', (code, signal) => r({ code, signal })));
    supervisor.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    supervisor.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const ready = await Promise.race([
      waitFor(
        'ready line',
        60_000,
        async () => /^ready web=(\S+)\/ api=(\S+)\/predict/m.exec(output) ?? undefined,
      ),
      exit.then(({ code }) => {
        throw new Error(`npm start exited (${code}) before ready:\n${output.slice(-4000)}`);
      }),
    ]);
    urls = { web: ready[1]!, api: ready[2]! };
  });

  after(async () => {
    if (supervisor.exitCode === null && supervisor.signalCode === null) {
      supervisor.kill('SIGKILL');
      // The parent watchdog stops the children of a killed supervisor; clean up regardless.
      for (const p of existsSync(stateFile) ? readState().processes : []) {
        for (const g of p.processGroups) if (groupAlive(g)) process.kill(-g, 'SIGKILL');
      }
    }
    rmSync(stateFile, { force: true });
  });

  it('serves the console HTML through the local ALB', async () => {
    const response = await fetch(`${urls.web}/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await response.text(), /^<!doctype html>/i);
  });

  it('scores {"data":[1,2,3,4]} through the API Gateway, the predict handler and the model endpoint', async () => {
    const response = await fetch(`${urls.api}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"data":[1,2,3,4]}',
    });
    const body = (await response.json()) as {
      predictions: Array<{ score: number; anomaly: boolean }>;
      model: { name: string };
    };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.predictions.length, 1);
    assert.ok(body.predictions[0]!.score >= 0 && body.predictions[0]!.score <= 1);
    assert.equal(typeof body.predictions[0]!.anomaly, 'boolean');
    assert.equal(typeof body.model.name, 'string');
  });

  it('scores raw log events, one prediction per event', async () => {
    const logs = [
      { timestamp: Date.now(), message: 'GET /api/services 200 3ms' },
      {
        timestamp: new Date().toISOString(),
        message: 'FATAL kernel panic: machine check 0x1f',
        logStream: 'node-7',
      },
    ];
    const response = await fetch(`${urls.api}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ logs }),
    });
    const body = (await response.json()) as { predictions: Array<{ score: number }> };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.predictions.length, 2);
  });

  it('answers a malformed body with 400 in the error shape', async () => {
    const response = await fetch(`${urls.api}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"data":[1,2,',
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'invalid_json');
  });

  it('shows the backend’s anomalies on the console API within 10 s of a fault burst', async () => {
    type Series = { points: Array<{ anomalous: number }> };
    const anomalousCount = async () => {
      const r = await fetch(`${urls.web}/api/services/backend/series?bucketSeconds=10&buckets=60`);
      if (!r.ok) throw new Error(`series HTTP ${r.status}`);
      return ((await r.json()) as Series).points.reduce((n, p) => n + p.anomalous, 0);
    };
    const baseline = await anomalousCount();
    const t0 = Date.now();
    const cli = await run(
      process.execPath,
      ['--import', 'tsx', 'platform/cli/main.ts', 'fault', 'burst', '20'],
      {
        cwd: ROOT,
        env: { ...process.env, LOCAL_STATE_FILE: stateFile },
      },
    );
    assert.deepEqual(JSON.parse(cli.stdout), { logged: 20 });
    const rose = await waitFor('backend anomaly count rises', 10_000, async () => {
      const n = await anomalousCount();
      return n > baseline ? n : undefined;
    });
    assert.ok(rose > baseline);
    type Listed = { records: Array<{ service: string; line: string }> };
    const listed = await waitFor(
      'console API lists the fault lines',
      10_000 - (Date.now() - t0),
      async () => {
        const r = await fetch(`${urls.web}/api/anomalies?service=backend&limit=50`);
        const body = (await r.json()) as Listed;
        return body.records.some((rec) => rec.line.includes('unhandled error burst')) ? body : undefined;
      },
    );
    assert.ok(listed.records.every((rec) => rec.service === 'backend'));
    console.error(`fault → first anomaly listed: ${Date.now() - t0} ms (includes the CLI's start)`);
  });

  it('brings a killed backend back, healthy, within 10 s', async () => {
    const before = readState().processes.find((p) => p.label === 'backend')!;
    const t0 = Date.now();
    process.kill(before.pid!, 'SIGKILL');
    await waitFor('backend restarted and healthy', 10_000, async () => {
      const now = readState().processes.find((p) => p.label === 'backend')!;
      if (now.pid === before.pid || !now.healthy) return undefined;
      const r = await fetch(`${urls.web}/api/services`);
      const body = (await r.json()) as { services: Array<{ name: string; health: string }> };
      return r.ok && body.services.find((s) => s.name === 'backend')?.health === 'up' ? true : undefined;
    });
    assert.ok(Date.now() - t0 < 10_000);
    assert.match(
      output,
      new RegExp(`backend\\s+\\| \\[local\\] exited unexpectedly \\(pid ${before.pid}, signal SIGKILL\\)`),
    );
  });

  it('stops on SIGTERM within a few seconds and leaves no process behind', async () => {
    const state = readState();
    const groups = state.processes.flatMap((p) => p.processGroups);
    // model, backend, frontend, two sidecars, predict, and the backend restarted by the previous test.
    assert.equal(groups.length, 7);
    const t0 = Date.now();
    supervisor.kill('SIGTERM');
    const { code } = await exit;
    const elapsed = Date.now() - t0;
    assert.equal(code, 0, output.slice(-2000));
    assert.ok(elapsed < 10_000, `stopped in ${elapsed} ms`);
    assert.equal(isAlive(supervisor.pid!), false);
    const alive = groups.filter((g) => groupAlive(g));
    assert.deepEqual(alive, [], 'every recorded process group is gone');
  });
});
