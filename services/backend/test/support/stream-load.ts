import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { AnomalyRecord } from '../../../../contracts/anomaly.ts';
import { type ServiceProcess, spawnService } from '../../../../test/support/service-process.ts';
import { waitFor } from '../../../../test/support/wait-for.ts';

/**
 * What the live-stream load test and `npm run bench:stream` share: the real backend process (its RSS is
 * what the task's memory limit sees), stream readers that stop reading, a burst of anomalous lines and
 * the latency of `GET /api/services` meanwhile. Everything stays on 127.0.0.1 and is bounded in count
 * and time by the caller.
 */

const ENTRY = fileURLToPath(new URL('../../main.ts', import.meta.url));

export type BackendProcess = ServiceProcess;

/** Starts `services/backend/main.ts` on an ephemeral loopback port with `env` added. */
export function spawnBackend(env: Record<string, string>): Promise<BackendProcess> {
  return spawnService(ENTRY, env);
}

/** Stream readers that read the response head and the `ready` event, then stop reading. */
export interface StalledReaders {
  /** Readers whose stream was accepted (200 and the `ready` event arrived). */
  readonly held: number;
  /** Status codes of refused readers, by code. */
  readonly refused: Readonly<Record<string, number>>;
  /** Readers the server closed since (dropped and told, or cut off). */
  closedByServer(): number;
  /** What a reader got once it read again: the bytes after it resumed, per held reader. */
  resume(): void;
  /** Bytes received after `resume()`, as text, of reader `i`. */
  textOf(i: number): string;
  close(): void;
}

/**
 * Opens `count` `GET path` streams, `concurrency` at a time. Each sends `headers(i)` (an identity, for
 * instance), waits for the `ready` event (or a refusal), then pauses: the kernel buffers fill and the
 * server sees a reader that does not read.
 */
export async function openStalledReaders(
  url: string,
  count: number,
  options: { readonly path?: string; readonly headers?: (i: number) => Record<string, string> } = {},
): Promise<StalledReaders> {
  const { hostname, port } = new URL(url);
  const sockets: Socket[] = [];
  const received: string[] = [];
  const refused: Record<string, number> = {};
  let closedByServer = 0;
  let resumed = false;
  let held = 0;
  const openOne = (i: number) =>
    new Promise<void>((resolve) => {
      const socket = connect({ host: hostname, port: Number(port) });
      let head = '';
      let settled = false;
      const settle = () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      socket.setNoDelay(true);
      socket.on('error', () => settle());
      socket.on('close', () => {
        if (settled && !socket.destroyed) return;
        if (settled) closedByServer += 1;
        settle();
      });
      socket.on('data', (chunk: Buffer) => {
        if (settled) {
          if (resumed) received[i] = (received[i] ?? '') + chunk.toString('latin1');
          return;
        }
        head += chunk.toString('latin1');
        const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
        if (status && status !== '200') {
          refused[status] = (refused[status] ?? 0) + 1;
          settled = true;
          socket.destroy();
          resolve();
          return;
        }
        if (head.includes('event: ready')) {
          held += 1;
          socket.pause();
          settle();
        }
      });
      const extra = Object.entries(options.headers?.(i) ?? {})
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(
        `GET ${options.path ?? '/api/events'} HTTP/1.1\r\nhost: ${hostname}:${port}\r\naccept: text/event-stream\r\n${extra}\r\n`,
      );
      sockets.push(socket);
    });
  const concurrency = 50;
  for (let start = 0; start < count; start += concurrency) {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count - start) }, (_, k) => openOne(start + k)),
    );
  }
  return {
    held,
    refused,
    closedByServer: () => closedByServer,
    resume() {
      resumed = true;
      for (const socket of sockets) socket.resume();
    },
    textOf: (i) => received[i] ?? '',
    close() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** A 1.5 KB error line with a stack trace, as the fault switch's burst writes them. */
export function burstLine(i: number): string {
  const frames = Array.from(
    { length: 16 },
    (_, k) => `    at handler${k} (/app/services/backend/src/route-${k}.ts:${100 + k}:${(i + k) % 80})`,
  ).join('\\n');
  return `{"level":"error","msg":"unhandled error burst: orders-db refused the connection ${i}","code":"ECONNREFUSED","stack":"Error: orders-db refused\\n${frames}"}`;
}

/** An anomalous record of `service` for line `i` of a burst. */
export function burstRecord(service: string, i: number, at: number): AnomalyRecord {
  return {
    id: `burst-${i}`,
    service,
    task: `task-${service}-1`,
    timestamp: new Date(at).toISOString(),
    score: 0.97,
    reasons: ['rare-template', 'severity:ERROR'],
    line: burstLine(i),
  } as AnomalyRecord;
}

/** Calls `GET url` one after another until `signal` aborts; returns each call's latency in ms. */
export async function latenciesUntil(url: string, signal: AbortSignal): Promise<number[]> {
  const latencies: number[] = [];
  while (!signal.aborted) {
    const started = performance.now();
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      if (signal.aborted) break;
      throw error;
    }
    latencies.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return latencies;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A sidecar-shaped server whose records a burst adds to (test/support/upstream-servers.ts). */
export interface BurstTarget {
  readonly requests: readonly string[];
  record(record: AnomalyRecord): void;
}

/** What {@link burstAndMeasure} saw. */
export interface BurstMeasure {
  /** Highest RSS of the backend during the burst, MiB (sampled every 50 ms). */
  readonly peakMiB: number;
  /** `GET /api/services` latencies during the burst, ms. */
  readonly latencies: readonly number[];
  /** The same calls to the control backend meanwhile (same machine, same moment, no streams), ms. */
  readonly controlLatencies: readonly number[];
  /** The burst stopped early because RSS passed `stopAboveMiB`. */
  readonly stoppedEarly: boolean;
}

/**
 * The burst: `rounds` rounds of `linesPerRound` error lines with stack traces recorded by the
 * sidecar stand-in, each round once the backend has read the previous one twice, while `GET
 * /api/services` is called one after another. Stops early past `stopAboveMiB` (the unbounded stream
 * would otherwise take the machine's memory).
 */
export async function burstAndMeasure(options: {
  readonly backend: BackendProcess;
  /** A second backend without streams, called the same way at the same time: the machine's share. */
  readonly control?: BackendProcess;
  readonly sidecar: BurstTarget;
  readonly service: string;
  readonly rounds?: number;
  readonly linesPerRound?: number;
  readonly stopAboveMiB?: number;
  /**
   * Pace of the rounds when no stream is open: the feed then does not poll the sidecar, so there is
   * no read to wait for (the benchmark's 0-reader level). @default - wait for the backend's reads
   */
  readonly roundMs?: number;
}): Promise<BurstMeasure> {
  const { backend, sidecar } = options;
  const rounds = options.rounds ?? 16;
  const linesPerRound = options.linesPerRound ?? 1000;
  const stopAbove = options.stopAboveMiB ?? Number.POSITIVE_INFINITY;
  let peak = backend.rssMiB();
  let stoppedEarly = false;
  const sampler = setInterval(() => {
    peak = Math.max(peak, backend.rssMiB());
    if (peak > stopAbove) stoppedEarly = true;
  }, 50);
  const stopLatency = new AbortController();
  const latencies = latenciesUntil(`${backend.url}/api/services`, stopLatency.signal);
  const controlLatencies = options.control
    ? latenciesUntil(`${options.control.url}/api/services`, stopLatency.signal)
    : Promise.resolve([]);
  const polls = () => sidecar.requests.filter((r) => r.startsWith('GET /anomalies')).length;
  try {
    for (let round = 0; round < rounds && !stoppedEarly; round++) {
      const at = Date.now();
      for (let i = 0; i < linesPerRound; i++) {
        sidecar.record(burstRecord(options.service, round * linesPerRound + i, at));
      }
      const polled = polls();
      if (options.roundMs !== undefined) {
        await new Promise((resolve) => setTimeout(resolve, options.roundMs));
        continue;
      }
      // The next round once the backend has read this one (and fanned it out).
      await waitFor('the backend reads the round', 30_000, () => stoppedEarly || polls() >= polled + 2);
    }
  } finally {
    clearInterval(sampler);
    stopLatency.abort();
  }
  return {
    peakMiB: peak,
    latencies: await latencies,
    controlLatencies: await controlLatencies,
    stoppedEarly,
  };
}
