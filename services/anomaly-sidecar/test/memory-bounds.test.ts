import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type RunningInferenceServer, startInferenceServer } from '../../../model/serve/index.ts';
import { SIDECAR_NODE_FLAGS, SIDECAR_PROCESS_ENV } from '../contract.ts';
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
      ...SIDECAR_PROCESS_ENV,
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

/**
 * Streams `total` bytes of a JSON array, chunked (no content-length), and resolves with the status. The
 * server answers 413 and closes while the body is still coming, so the connection ends in a reset: each
 * write yields to the event loop first (a poll phase, which reads what the server sent before the
 * reset), and nothing is written once the answer is in. Writing in one synchronous run instead let a
 * loaded machine's write meet the reset before the 413 was read ('EPIPE' !== 413).
 */
function postChunked(total: number): Promise<number | string> {
  return new Promise((resolve) => {
    let answered = false;
    const answer = (status: number | string) => {
      answered = true;
      resolve(status);
    };
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/logs',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...ROUTER_HEADERS },
    });
    req.on('response', (res) => {
      res.resume();
      answer(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', (error) => answer((error as NodeJS.ErrnoException).code ?? 'error'));
    const record = `${JSON.stringify(firelensRecord('x'.repeat(900)))},`;
    const piece = Buffer.from(record.repeat(64));
    const pump = async () => {
      req.write('[');
      for (let sent = 0; sent < total; sent += piece.length) {
        await new Promise((next) => setImmediate(next));
        if (answered) return;
        if (!req.write(piece)) await new Promise((drained) => req.once('drain', drained));
      }
      if (!answered) req.end('{}]');
    };
    void pump();
  });
}

/**
 * A sender that is slow to read: it writes `bytes` of a chunked body (past the limit), writes once more
 * after the server has had time to answer, and only then reads. A server that closes with the body
 * unread resets the connection, and the reset erases the answer the sender had not read yet (RFC 9112
 * §9.6); one that discards the rest within its limits keeps it, so the 413 is read whenever the sender
 * reads. Resolves with the first line of what it read, or the socket's error code.
 */
function postChunkedReadingLate(bytes: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    let settled = false;
    const settle = (value: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(value);
    };
    socket.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? 'error'));
    socket.on('data', (data) => {
      received += data.toString('latin1');
      if (received.includes('\r\n')) settle(received.slice(0, received.indexOf('\r\n')));
    });
    socket.on('end', () => settle(received || 'ended'));
    socket.pause();
    const headers = Object.entries({ ...ROUTER_HEADERS, 'content-type': 'application/json' })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    const piece = Buffer.alloc(256 * 1024, 0x20);
    const chunk = Buffer.concat([
      Buffer.from(`${piece.length.toString(16)}\r\n`),
      piece,
      Buffer.from('\r\n'),
    ]);
    const send = async () => {
      socket.write(
        `POST /logs HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}transfer-encoding: chunked\r\n\r\n1\r\n[\r\n`,
      );
      for (let sent = 0; sent < bytes; sent += piece.length) {
        if (!socket.write(chunk)) await new Promise((drained) => socket.once('drain', drained));
      }
      // The server has read past its limit: its answer is on its way or in. One more piece meets
      // whatever it did with the connection, then the sender reads.
      await new Promise((later) => setTimeout(later, 200));
      socket.write(chunk, () => setTimeout(() => socket.resume(), 200));
    };
    send().catch((error: NodeJS.ErrnoException) => settle(error.code ?? 'error'));
  });
}

describe('intake memory bounds (process)', () => {
  it('answers a body past the limit with a 413 the sender reads, even reading late (no reset)', async () => {
    const answer = await postChunkedReadingLate(10 * MiB);
    assert.equal(answer, 'HTTP/1.1 413 Payload Too Large');
  });

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
