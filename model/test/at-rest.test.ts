import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type AnomalyModel, loadModel } from '../core/model.ts';
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
    const flood = Array.from({ length: 200 }, (_, i) => CLIENT_ERRORS[i % CLIENT_ERRORS.length]!);
    const scored = score(flood);
    assert.deepEqual(
      scored.flatMap((s, i) => (s.anomaly ? [`${s.score} ${flood[i]}`] : [])),
      [],
    );
    assert.ok(scored.every((s) => s.reasons.includes('client-error')));
    assert.equal(parseLogLine(CLIENT_ERRORS[0]!).status, 404);
  });

  it('still flags a fault burst (error lines with stack traces)', () => {
    const burst = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({
        level: 'error',
        time: at,
        msg: `unhandled error burst: ${['connect ECONNREFUSED 10.0.3.7:5432', 'socket hang up', "Cannot read properties of undefined (reading 'id')"][i % 3]}`,
        code: 'ECONNREFUSED',
        stack:
          'Error: connect ECONNREFUSED\n    at FaultSwitch.logFailure (file:///app/fault-switch.ts:120:19)',
        fault: true,
      }),
    );
    const scored = score(burst);
    assert.ok(
      scored.every((s) => s.anomaly),
      JSON.stringify(scored.map((s) => s.score)),
    );
  });
});
