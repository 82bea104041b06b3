import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Hono } from 'hono';
import { abortMidUpload } from '../../../platform/local/replays.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { createBackendApp } from '../src/app.ts';
import { FaultSwitch } from '../src/fault-switch.ts';
import { LocalAnomalySource } from '../src/local-anomaly-source.ts';
import { listen, type RunningServer } from './support/upstream-servers.ts';

/**
 * A client that hangs up mid-upload (issue 24) is the client's doing: the backend logs one request line
 * at info with status 499 and no stack trace, never an `unhandled error` or a 5xx line that the anomaly
 * model would score and the deployment gate would count against the revision.
 */

const lines: Record<string, unknown>[] = [];
let backend: RunningServer;

before(async () => {
  const app = createBackendApp({
    services: [],
    anomalies: new LocalAnomalySource({ services: [], timeoutMs: 300 }),
    // A scorer that never answers: the abort happens while the body is still being read.
    scoring: { score: () => new Promise(() => {}) },
    faults: new FaultSwitch({ enabled: false, dependencyTimeoutMs: 10, log: (l) => lines.push(l) }),
    healthTimeoutMs: 300,
    log: (line) => lines.push(line),
  });
  backend = await listen(app as unknown as Hono);
});
after(() => backend.close());

describe('a client abort mid-upload at the backend', () => {
  it('is one request line at info, status 499, no stack, no unhandled error, no 5xx', async () => {
    for (let i = 0; i < 5; i++) await abortMidUpload(`${backend.url}/api/predict`);
    await waitFor('five request lines', 10_000, () => lines.filter((l) => l.msg === 'request').length >= 5);
    // A request after them: a late error line of the aborted ones would be written before its answer.
    assert.equal((await fetch(`${backend.url}/healthz`)).status, 200);

    const requests = lines.filter((l) => l.msg === 'request' && l.path === '/api/predict');
    assert.deepEqual(
      requests.map((l) => [l.level, l.status]),
      Array.from({ length: 5 }, () => ['info', 499]),
    );
    assert.deepEqual(
      lines.filter((l) => l.level !== 'info' || 'stack' in l || l.msg === 'unhandled error'),
      [],
    );
  });
});
