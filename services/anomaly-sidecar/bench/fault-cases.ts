import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIDECAR_INTAKE_TOKEN_HEADER } from '../../../contracts/sidecar.ts';
import { parsePrometheus } from '../src/prometheus.ts';

/** The intake token the benchmark's sidecars take (a task's router sends its own). */
export const BENCH_INTAKE_TOKEN = 'bench-intake-token-0123456789abcdef0123456789';

/**
 * The benchmark's fault cases (issue 14), against a second sidecar process of the same bundle whose
 * endpoint is a small front in this process: in `model_error` mode it answers what SageMaker answers when
 * the model container fails (424 ModelError, OriginalStatusCode 500), otherwise it forwards to the real
 * inference server.
 */

export interface ModelFront {
  readonly url: string;
  mode: 'up' | 'model_error';
  calls: number;
  close(): Promise<void>;
}

export async function startModelFront(modelUrl: string): Promise<ModelFront> {
  const front: ModelFront = { url: '', mode: 'up', calls: 0, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      front.calls += 1;
      if (front.mode === 'model_error') {
        res.writeHead(424, { 'content-type': 'application/json', 'x-amzn-errortype': 'ModelError' });
        res.end(
          JSON.stringify({ Message: 'Received server error (500) from primary', OriginalStatusCode: 500 }),
        );
        return;
      }
      const upstream = request(
        `${modelUrl}${req.url}`,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json' });
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.writeHead(503).end());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(front, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
  return front;
}

const metricsOf = async (port: number) =>
  parsePrometheus(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
const scoredOf = (m: Map<string, number>) => m.get('sidecar_records_scored_total') ?? 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * 1,000 lines while the model container fails: endpoint calls they cost (the issue measured 1,998), and
 * the seconds from the model healing to lines being scored again.
 */
export async function modelErrorOutage(
  port: number,
  front: ModelFront,
  bodies: readonly string[],
): Promise<{ callsPer1000Lines: number; recoverySeconds: number; droppedAsRejected: number }> {
  front.mode = 'model_error';
  front.calls = 0;
  const before = await metricsOf(port);
  // Two FireLens bodies of 500 records: 1,000 lines.
  for (const body of bodies.slice(0, 2)) {
    await fetch(`http://127.0.0.1:${port}/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIDECAR_INTAKE_TOKEN_HEADER]: BENCH_INTAKE_TOKEN },
      body,
    });
  }
  await sleep(5000);
  const callsPer1000Lines = front.calls;
  const during = await metricsOf(port);
  front.mode = 'up';
  const healed = performance.now();
  let recoverySeconds = Number.POSITIVE_INFINITY;
  while (performance.now() - healed < 15_000) {
    if (scoredOf(await metricsOf(port)) > scoredOf(during)) {
      recoverySeconds = (performance.now() - healed) / 1000;
      break;
    }
    await sleep(20);
  }
  const key = 'sidecar_records_dropped_total{reason="rejected_by_model"}';
  return {
    callsPer1000Lines,
    recoverySeconds,
    droppedAsRejected: (during.get(key) ?? 0) - (before.get(key) ?? 0),
  };
}

/** A chunked 200 MiB body (no content-length): its status and the sidecar's peak RSS while refusing it. */
export async function chunkedBody(
  port: number,
  pid: number,
): Promise<{ status: number | string; peakRssMiB: number }> {
  // Writing 5 to clear_refs resets VmHWM, so the peak is this case's own.
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  const status = await new Promise<number | string>((resolve) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/logs',
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
        [SIDECAR_INTAKE_TOKEN_HEADER]: BENCH_INTAKE_TOKEN,
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? 'error'));
    const piece = Buffer.from(`${JSON.stringify({ date: 1718000000.5, log: 'x'.repeat(900) })},`);
    const total = 200 * 1024 * 1024;
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
  await sleep(500);
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return { status, peakRssMiB: hwm / 1024 };
}
