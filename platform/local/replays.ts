import { connect } from 'node:net';
import type { DemoStats } from './demo-traffic.ts';

/**
 * The outsiders' replays of issue 24, against a running local platform: clients that hang up
 * mid-upload, and the requests the deployment switch itself failed. Bounded in count and time, on
 * loopback; the tests and `npm run bench:deployments` run them.
 */

/** Sends the headers and the start of a 100 KB JSON body to `url`, then resets the connection. */
export async function abortMidUpload(url: string): Promise<void> {
  const { hostname, port, pathname } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(
    `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"logs":[`,
  );
  // Long enough for the server to start reading the body: the abort lands mid-upload.
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.resetAndDestroy();
}

/**
 * `count` aborted uploads to `url`, spread evenly over `durationMs` (the 128 in 1.5 s), a few
 * at a time. Resolves with how many connections were made.
 */
export async function abortReplay(url: string, count: number, durationMs: number): Promise<number> {
  const started = Date.now();
  let made = 0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * durationMs) / count;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      abortMidUpload(url).then(
        () => {
          made += 1;
        },
        () => undefined,
      ),
    );
  }
  await Promise.all(inFlight);
  return made;
}

/**
 * Requests the switch between revisions failed: the local ALB's 502 (a target gone mid-request) and 503
 * (no healthy target), and connections refused or reset. A bad release's own 500s are its doing; 504s and
 * deadlines passed are slowness (of the machine or the service), reported apart by {@link slowAnswers}.
 */
export function failedBySwitch(stats: DemoStats): number {
  return (stats.byStatus[502] ?? 0) + (stats.byStatus[503] ?? 0) + stats.unanswered;
}

/** Requests that were too slow: 504s and client deadlines passed. */
export function slowAnswers(stats: DemoStats): number {
  return (stats.byStatus[504] ?? 0) + stats.timedOut;
}
