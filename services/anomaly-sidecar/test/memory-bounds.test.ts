import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type RunningInferenceServer, startInferenceServer } from '../../../model/serve/index.ts';
import { SIDECAR_NODE_FLAGS } from '../contract.ts';
import { firelensRecord, ROUTER_HEADERS, TEST_INTAKE_TOKEN } from './support.ts';

/**
 * Issue 14, finding 2: the intake must enforce its body limit while reading, and the bodies it reads at
 * once must fit the container's memory. The real entry point as a process, with the image's V8 flags
 * (old space capped at 64 MiB, so an unbounded intake dies here too); peak RSS read from
 * /proc/<pid>/status (VmHWM), so a body buffered whole shows even if it was freed at once.
 */

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const MiB = 1024 * 1024;
let model: RunningInferenceServer;
let child: ChildProcess;
let port = 0;
let stderr = '';

/** Resets the peak (writing 5 to clear_refs resets VmHWM), so each case measures its own. */
const resetPeak = () => writeFileSync(`/proc/${child.pid}/clear_refs`, '5');
const peakRssMiB = () => {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
};

before(async () => {
  model = await startInferenceServer({ port: 0, log: () => {} });
  child = spawn(process.execPath, [...SIDECAR_NODE_FLAGS, '--import', 'tsx', MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      AWS_EC2_METADATA_DISABLED: 'true',
      PORT: '0',
      SERVICE_NAME: 'backend',
      INTAKE_TOKEN: TEST_INTAKE_TOKEN,
      ENDPOINT_NAME: 'log-anomaly',
      ENDPOINT_URL: model.url,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const deadline = Date.now() + 20_000;
  while (port === 0 && Date.now() < deadline) {
    const listening = stderr.split('\n').find((l) => l.includes('"msg":"listening"'));
    if (listening) port = JSON.parse(listening).port;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(port > 0, `sidecar did not start: ${stderr}`);
});
after(async () => {
  child.kill('SIGKILL');
  await model.close();
});

/** Streams `total` bytes of a JSON array, chunked (no content-length), and resolves with the status. */
function postChunked(total: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/logs',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...ROUTER_HEADERS },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? 'error'));
    const piece = Buffer.from(`${JSON.stringify(firelensRecord('x'.repeat(900)))},`);
    let sent = 0;
    req.write('[');
    const pump = () => {
      while (sent < total) {
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      req.end('{}]');
    };
    pump();
  });
}

describe('intake memory bounds (process)', () => {
  it('refuses a chunked 200 MiB body with 413 while reading it, without buffering it', async () => {
    resetPeak();
    const before = peakRssMiB();
    const status = await postChunked(200 * MiB);
    assert.equal(status, 413);
    const peak = peakRssMiB();
    assert.ok(peak - before < 48, `peak RSS rose from ${before.toFixed(0)} to ${peak.toFixed(0)} MiB`);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200, 'still serving');
  });

  it('8 parallel bodies of almost 8 MiB stay within the memory bound; the excess is refused, counted', async () => {
    resetPeak();
    const before = peakRssMiB();
    const records = Array.from({ length: 7800 }, (_, i) => firelensRecord(`INFO ${i} ${'y'.repeat(800)}`));
    const body = JSON.stringify(records);
    assert.ok(body.length < 8 * MiB && body.length > 7 * MiB);
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () =>
        fetch(`http://127.0.0.1:${port}/logs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...ROUTER_HEADERS },
          body,
        }).then(
          (r) => r.status,
          (e: Error) => String((e.cause as Error)?.message ?? e),
        ),
      ),
    );
    const peak = peakRssMiB();
    assert.ok(statuses.includes(202), `some are accepted: ${statuses}`);
    // The bodies held at once (INTAKE_MAX_BUFFERED_BYTES, 16 MiB) and what parsing them costs.
    assert.ok(peak - before < 96, `peak RSS rose from ${before.toFixed(0)} to ${peak.toFixed(0)} MiB`);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // Refused ones answer 503, or (still writing when the connection closes) see the reset instead.
    const busy = statuses.filter((s) => s !== 202).length;
    assert.ok(
      statuses.every((s) => s === 202 || s === 503 || /EPIPE|ECONNRESET|closed/.test(String(s))),
      statuses.join(','),
    );
    const counted = Number(/sidecar_intake_bodies_rejected_total\{reason="busy"\} (\d+)/.exec(metrics)?.[1]);
    assert.equal(counted, busy, `statuses ${statuses.join(',')}`);
  });
});
