import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type RunningInferenceServer, startInferenceServer } from '../../../model/serve/index.ts';
import { firelensRecord, ROUTER_HEADERS, TEST_INTAKE_TOKEN } from './support.ts';

/** The real entry point as a process: configuration errors, serving, and the SIGTERM flush. */

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
let model: RunningInferenceServer;
const children: ChildProcess[] = [];

/** The JSON lines of a stream (Node and the AWS SDK may print plain-text warnings on stderr). */
interface LogLine {
  readonly msg?: string;
  readonly port?: number;
  readonly issues?: { variable: string; message: string }[];
  readonly dropped?: Record<string, number>;
}
function jsonLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH ?? '', AWS_EC2_METADATA_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  return { child, out: () => stdout, err: () => stderr };
}

before(async () => {
  model = await startInferenceServer({ port: 0, log: () => {} });
});
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await model.close();
});

describe('main.ts', () => {
  it('exits 1 naming every invalid variable', async () => {
    const p = start({ BATCH_MAX_RECORDS: 'many' });
    const [code] = await once(p.child, 'exit');
    assert.equal(code, 1);
    const fatal = jsonLines(p.err()).at(-1);
    assert.ok(fatal?.issues, p.err());
    assert.equal(fatal.msg, 'invalid environment');
    assert.deepEqual(
      fatal.issues.map((i) => i.variable),
      ['INTAKE_TOKEN', 'SERVICE_NAME', 'ENDPOINT_NAME', 'BATCH_MAX_RECORDS'],
    );
  });

  it('on SIGTERM scores what is queued within the grace period, writes the last EMF line and exits 0', async () => {
    const p = start({
      PORT: '0',
      SERVICE_NAME: 'backend',
      INTAKE_TOKEN: TEST_INTAKE_TOKEN,
      CLUSTER_NAME: 'acme',
      ENDPOINT_NAME: 'log-anomaly',
      ENDPOINT_URL: model.url,
      BATCH_MAX_AGE_MS: '60000',
      EMF_INTERVAL_SECONDS: '3600',
    });
    const deadline = Date.now() + 20_000;
    let port = 0;
    while (port === 0 && Date.now() < deadline && p.child.exitCode === null) {
      const listening = jsonLines(p.err()).find((l) => l.msg === 'listening');
      port = listening?.port ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(port > 0, `sidecar did not start: ${p.err()}`);
    const records = Array.from({ length: 50 }, (_, i) => firelensRecord(`INFO request ${i} served`));
    const res = await fetch(`http://127.0.0.1:${port}/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ROUTER_HEADERS },
      body: JSON.stringify(records),
    });
    assert.equal(res.status, 202);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(((await health.json()) as { queueDepth: number }).queueDepth, 50, 'waiting for its age');
    p.child.kill('SIGTERM');
    const [code] = await once(p.child, 'exit');
    assert.equal(code, 0);
    const emf = p
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => '_aws' in l);
    assert.equal(emf.length, 1);
    assert.equal(emf[0].LinesScored, 50);
    assert.equal(emf[0].Cluster, 'acme');
    const stopped = jsonLines(p.err()).find((l) => l.msg === 'stopped');
    assert.equal(stopped?.dropped?.shutdown, 0);
  });
});
