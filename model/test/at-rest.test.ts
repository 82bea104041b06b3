import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { type AnomalyModel, loadModel } from '../core/model.ts';
import { TIME_WINDOW_SECONDS } from '../core/window-stats.ts';
import { parseLogLine } from '../features/parse.ts';

/**
 * The shipped default artifact on the platform's own routine output (what `npm start` forwards to the
 * sidecars): start-up warnings, health checks, successful requests and client-caused errors stay
 * below the threshold, and a real fault still scores above it.
 */

const at = '2026-12-01T22:01:01.078Z';
const access = (service: string, method: string, path: string, status: number) =>
  JSON.stringify({
    level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
    time: at,
    service,
    msg: 'request',
    method,
    path,
    status,
    durationMs: 1.3,
    requestId: '4fe8891c-cf17-4c8b-b0dc-4d1699997541',
  });

/** The Node.js runtime's AWS SDK warning as the log router forwards it: one record per line. */
const NODE_WARNING = [
  '(node:22963) Warning: NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)',
  'versions published after the first week of January 2027',
  'will require node >=22. You are running node v20.20.2.',
  '',
  'To continue receiving updates to AWS services, bug fixes,',
  'and security updates please upgrade to node >=22.',
  '',
  'More information can be found at: https://a.co/c895JFp',
  '(Use `node --trace-warnings ...` to show where the warning was created)',
];

const ROUTINE = [
  ...NODE_WARNING,
  JSON.stringify({
    level: 'info',
    time: at,
    msg: 'listening',
    service: 'backend',
    address: '127.0.0.1',
    port: 45145,
    anomalySource: 'local',
    services: ['backend', 'frontend'],
    modelEndpoint: 'log-anomaly',
    faultsEnabled: true,
  }),
  access('backend', 'GET', '/healthz', 200),
  access('frontend', 'GET', '/', 200),
  access('frontend', 'GET', '/api/services', 200),
  access('backend', 'GET', '/api/services/backend/series', 200),
];

const CLIENT_ERRORS = [
  access('backend', 'GET', '/api/services/nope', 404),
  access('frontend', 'GET', '/api/services/nope', 404),
  access('backend', 'POST', '/api/faults', 400),
  access('frontend', 'POST', '/api/predict', 413),
  access('backend', 'POST', '/api/faults', 403),
  access('frontend', 'DELETE', '/api/services', 405),
  access('frontend', 'GET', '/api/anomalies', 429),
];

/** A fault burst's line, as `npm run fault -- burst` makes the backend log it. */
const faultLine = (i: number) =>
  JSON.stringify({
    level: 'error',
    time: at,
    msg: `unhandled error burst: ${['connect ECONNREFUSED 10.0.3.7:5432', 'socket hang up', "Cannot read properties of undefined (reading 'id')"][i % 3]}`,
    code: 'ECONNREFUSED',
    stack: 'Error: connect ECONNREFUSED\n    at FaultSwitch.logFailure (file:///app/fault-switch.ts:120:19)',
    fault: true,
  });

/**
 * The most successful request lines one service logs in a minute of the end-to-end at-rest check
 * (platform/local/test/e2e.test.ts): demo traffic at its default 2 requests a second and health checks
 * (ALB, container and the console's, at most 1 a second together), each at most one line in a service.
 * Client errors are the client's to multiply, so the tests below bound nothing about them but a batch.
 */
const AT_REST_REQUEST_LINES_PER_MINUTE = (2 + 1) * TIME_WINDOW_SECONDS;
/** The sidecar's default batch (`BATCH_MAX_RECORDS`): the most lines scored together. */
const SIDECAR_BATCH = 500;

describe('the default artifact at rest', () => {
  let model: AnomalyModel;
  before(async () => {
    model = await loadModel();
  });
  const score = (lines: readonly string[]) =>
    model.scoreEvents(lines.map((message) => ({ timestamp: Date.parse(at), message })));

  it('does not flag the platform’s start-up warnings, health checks and successful requests', () => {
    const flagged = score(ROUTINE).flatMap((s, i) => (s.anomaly ? [`${s.score} ${ROUTINE[i]}`] : []));
    assert.deepEqual(flagged, []);
  });

  it('does not flag client-caused errors (4xx access lines), alone or in a flood, and says why', () => {
    // As many as the sidecar scores together, all in one minute: the client decides how many.
    const flood = Array.from({ length: SIDECAR_BATCH }, (_, i) => CLIENT_ERRORS[i % CLIENT_ERRORS.length]!);
    const scored = score(flood);
    assert.deepEqual(
      scored.flatMap((s, i) => (s.anomaly ? [`${s.score} ${flood[i]}`] : [])),
      [],
    );
    assert.ok(scored.every((s) => s.reasons.includes('client-error')));
    assert.equal(parseLogLine(CLIENT_ERRORS[0]!).status, 404);
  });

  it('still flags a fault burst (error lines with stack traces)', () => {
    const burst = Array.from({ length: 20 }, (_, i) => faultLine(i));
    const scored = score(burst);
    assert.ok(
      scored.every((s) => s.anomaly),
      JSON.stringify(scored.map((s) => s.score)),
    );
  });

  // Quiet at rest by construction, not by how lines happened to be batched: the sidecar scores what
  // arrived together, and a slow machine batches more. The worst case is a whole minute (one time
  // window) of a service's at-rest output in one batch; cut into any batches, in any order, with any
  // repeats, it flags nothing, and a fault's lines among it are flagged wherever they fall.
  it('a batch of twice a minute of at-rest request lines stays quiet (no burst, no unusual mix)', () => {
    const line = access('frontend', 'GET', '/api/services', 200);
    const scored = score(Array.from({ length: 2 * AT_REST_REQUEST_LINES_PER_MINUTE }, () => line));
    assert.deepEqual(
      scored.flatMap((s) => (s.anomaly ? [`${s.score} ${s.reasons.join(',')}`] : [])),
      [],
    );
  });

  it('flags nothing in any batching of a minute of at-rest output, and every fault line among it', () => {
    const minuteStart = Date.parse(at) - (Date.parse(at) % (TIME_WINDOW_SECONDS * 1000));
    const requestLines = ROUTINE.slice(NODE_WARNING.length + 1);
    const minute = fc
      .record({
        // A process start at most once a minute: its warning and its listening line, once.
        started: fc.boolean(),
        // Counts drawn as numbers (fast-check tries the ends of the range), lines picked by a stride.
        requests: fc.nat({ max: AT_REST_REQUEST_LINES_PER_MINUTE }),
        clientErrors: fc.nat({ max: SIDECAR_BATCH }),
        stride: fc.nat({ max: 96 }),
        faults: fc.array(fc.nat({ max: SIDECAR_BATCH }), { maxLength: 20 }),
        cuts: fc.array(fc.nat({ max: SIDECAR_BATCH }), { maxLength: 6 }),
        offsets: fc.array(fc.nat({ max: TIME_WINDOW_SECONDS * 1000 - 1 }), { minLength: 1, maxLength: 50 }),
      })
      .map(({ started, requests, clientErrors, stride, faults, cuts, offsets }) => {
        const pick = (from: readonly string[], i: number) => from[(i * (stride + 1)) % from.length]!;
        const lines: Array<{ message: string; fault: boolean }> = [
          ...(started ? [...NODE_WARNING, ROUTINE[NODE_WARNING.length]!] : []).map((message) => ({
            message,
            fault: false,
          })),
          ...Array.from({ length: requests }, (_, i) => ({ message: pick(requestLines, i), fault: false })),
        ];
        // Client errors interleaved: the outsider sends them whenever it likes.
        for (let i = 0; i < clientErrors; i++) {
          lines.splice((i * 7919) % (lines.length + 1), 0, { message: pick(CLIENT_ERRORS, i), fault: false });
        }
        faults.forEach((at, i) => {
          lines.splice(Math.min(at, lines.length), 0, { message: faultLine(i), fault: true });
        });
        const events = lines.map((l, i) => ({ ...l, timestamp: minuteStart + offsets[i % offsets.length]! }));
        const bounds = [...new Set([0, ...cuts.map((c) => Math.min(c, events.length)), events.length])].sort(
          (a, b) => a - b,
        );
        const batches = bounds.slice(1).map((end, i) => events.slice(bounds[i], end));
        return batches.flatMap((b) =>
          Array.from({ length: Math.ceil(b.length / SIDECAR_BATCH) }, (_, k) =>
            b.slice(k * SIDECAR_BATCH, (k + 1) * SIDECAR_BATCH),
          ),
        );
      });
    fc.assert(
      fc.property(minute, (batches) => {
        for (const batch of batches) {
          const scored = model.scoreEvents(batch.map(({ timestamp, message }) => ({ timestamp, message })));
          const wrong = scored.flatMap((s, i) =>
            s.anomaly === batch[i]!.fault ? [] : [`${s.score} ${s.reasons.join(',')} ${batch[i]!.message}`],
          );
          assert.deepEqual(wrong, []);
        }
      }),
      { numRuns: 60 },
    );
  });
});
