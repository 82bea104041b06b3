import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Hono } from 'hono';
import type { ServicesResponse } from '../../../contracts/console-api.ts';
import type { LiveEvent, LocalDeploymentsState } from '../../../contracts/console-ops.ts';
import { ApiError } from '../../../contracts/errors.ts';
import { createBackendApp } from '../src/app.ts';
import type { ServiceTarget } from '../src/config.ts';
import { FaultSwitch } from '../src/fault-switch.ts';
import { LiveFeed } from '../src/live-feed.ts';
import { LocalAnomalySource } from '../src/local-anomaly-source.ts';
import { LocalOperationsSource } from '../src/local-operations-source.ts';
import { listen, type RunningServer, startSidecar, unusedPort } from './support/upstream-servers.ts';

const dir = mkdtempSync(join(tmpdir(), 'backend-live-'));
const servers: RunningServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** Reads server-sent events from a real HTTP stream until `until` says enough. */
async function readEvents(
  url: string,
  until: (events: { event: string; data: unknown }[]) => boolean,
  timeoutMs = 5000,
): Promise<{ event: string; data: unknown }[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const response = await fetch(url, { signal: controller.signal });
  assert.equal(response.headers.get('content-type'), 'text/event-stream');
  const events: { event: string; data: unknown }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
        end = buffer.indexOf('\n\n');
      }
      if (until(events)) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

describe('GET /api/events (server-sent events)', () => {
  test('pushes an anomaly recorded after connecting, and a service going down, within one interval', async () => {
    const sidecar = await startSidecar('frontend', { records: 1 });
    const health = await startSidecar('backend', { records: 0 });
    servers.push(sidecar, health);
    const services: ServiceTarget[] = [
      { name: 'frontend', healthUrl: `${sidecar.url}/health`, sidecarUrl: sidecar.url },
      { name: 'backend', healthUrl: `${health.url}/health` },
    ];
    const anomalies = new LocalAnomalySource({ services, timeoutMs: 500 });
    const operations = new LocalOperationsSource({ services, healthTimeoutMs: 500 });
    const live = new LiveFeed({
      services,
      anomalies,
      operations,
      anomalyPollMs: 100,
      healthIntervalMs: 300,
      operationsIntervalMs: 1000,
    });
    const backend = await listen(
      createBackendApp({
        services,
        anomalies,
        operations,
        live,
        scoring: undefined,
        faults: new FaultSwitch({ enabled: false, dependencyTimeoutMs: 10, log: () => undefined }),
        healthTimeoutMs: 500,
        log: () => undefined,
      }) as unknown as Hono,
    );
    servers.push(backend);
    let injectedAt = 0;
    let stoppedAt = 0;
    const events = await readEvents(`${backend.url}/api/events`, (received) => {
      const anomalyBatches = received.filter((e) => e.event === 'anomalies');
      if (anomalyBatches.length === 1 && injectedAt === 0) {
        injectedAt = Date.now();
        sidecar.record({
          id: 'pushed-1',
          service: 'frontend',
          task: 'pid-1',
          timestamp: new Date().toISOString(),
          score: 0.99,
          line: 'ERROR pushed',
        });
      }
      if (anomalyBatches.length === 2 && stoppedAt === 0) {
        stoppedAt = Date.now();
        void health.close();
      }
      return received.some(
        (e) =>
          e.event === 'services' &&
          (e.data as { services: { name: string; health: string }[] }).services[1]?.health === 'down',
      );
    });
    const batches = events
      .filter((e) => e.event === 'anomalies')
      .map((e) => e.data as { records: { line: string }[] });
    assert.deepEqual(
      batches[1]!.records.map((r) => r.line),
      ['ERROR pushed'],
      'the second batch holds only the new record',
    );
    assert.ok(stoppedAt > 0 && Date.now() - stoppedAt < 1500, 'down within one health interval (+ probe)');
    assert.equal(events[0]!.event, 'ready');
    // The feed stops polling once the last console disconnects.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(live.listenerCount, 0);
    live.close();
  });
});

describe('LiveFeed', () => {
  test('a failing health source turns every card unknown with the reason, instead of freezing it', async () => {
    const services: ServiceTarget[] = [{ name: 'backend' }, { name: 'frontend' }];
    const failing = new LocalOperationsSource({ services, healthTimeoutMs: 100 });
    failing.serviceHealth = () =>
      Promise.reject(new ApiError('bad_gateway', 'ECS call failed (AccessDeniedException)'));
    const live = new LiveFeed({
      services,
      anomalies: new LocalAnomalySource({ services, timeoutMs: 100 }),
      operations: failing,
      anomalyPollMs: 10_000,
      healthIntervalMs: 10_000,
      operationsIntervalMs: 10_000,
    });
    const event = await new Promise<LiveEvent>((resolve) => {
      const stop = live.subscribe((e) => {
        if (e.type === 'services') {
          stop();
          resolve(e);
        }
      });
    });
    live.close();
    assert.deepEqual(
      (event.data as ServicesResponse).services.map((s) => [s.name, s.health, s.detail]),
      [
        ['backend', 'unknown', 'ECS call failed (AccessDeniedException)'],
        ['frontend', 'unknown', 'ECS call failed (AccessDeniedException)'],
      ],
    );
  });
});

describe('LocalOperationsSource: the local runtime state files', () => {
  test('deployments from DEPLOYMENTS_STATE_FILE; empty with a note when unset or not written yet', async () => {
    const file = join(dir, 'deployments.json');
    const services: ServiceTarget[] = [{ name: 'backend' }];
    assert.deepEqual(await new LocalOperationsSource({ services, healthTimeoutMs: 100 }).deployments(), {
      source: 'local',
      services: [],
      note: 'DEPLOYMENTS_STATE_FILE is not set',
    });
    const source = new LocalOperationsSource({ services, healthTimeoutMs: 100, deploymentsStateFile: file });
    assert.equal((await source.deployments()).note, 'no local deployment has run yet');
    const state: LocalDeploymentsState = {
      updatedAt: '2026-12-01T22:00:00.000Z',
      services: [
        {
          service: 'backend',
          strategy: 'canary',
          progressPercent: 50,
          deployments: [
            {
              id: 'local-2',
              revision: 'backend:2',
              status: 'primary',
              rolloutState: 'in-progress',
              desired: 2,
              running: 1,
              pending: 1,
              trafficPercent: 10,
              createdAt: '2026-12-01T21:59:00.000Z',
              updatedAt: '2026-12-01T22:00:00.000Z',
            },
          ],
          rollbacks: [],
        },
      ],
    };
    writeFileSync(file, JSON.stringify(state));
    // A file without judgements (a runtime before the gate's) reads as none.
    const withJudgements = state.services.map((s) => ({
      ...s,
      deployments: s.deployments.map((d) => ({ ...d, judgements: [] })),
    }));
    assert.deepEqual(await source.deployments(), { source: 'local', services: withJudgements });
  });

  test('a state file that breaks the contract is a 502 naming the path of the first issue', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ updatedAt: 'x', services: [{ service: 'backend', strategy: 'big-bang' }] }),
    );
    const source = new LocalOperationsSource({
      services: [],
      healthTimeoutMs: 100,
      deploymentsStateFile: file,
    });
    await assert.rejects(source.deployments(), (error: Error & { status: number }) => {
      assert.equal(error.status, 502);
      assert.match(
        error.message,
        /^the local deployments state file does not match the contract \(services\.0\.strategy: /,
      );
      return true;
    });
  });

  test('alarms derived from health keep their `since` while the state holds', async () => {
    const port = await unusedPort();
    let now = Date.UTC(2026, 11, 1, 22, 0, 0);
    const source = new LocalOperationsSource({
      services: [{ name: 'backend', healthUrl: `http://127.0.0.1:${port}/healthz` }, { name: 'worker' }],
      healthTimeoutMs: 300,
      now: () => now,
    });
    const first = await source.alarms();
    now += 60_000;
    const second = await source.alarms();
    assert.deepEqual(
      second.alarms.map((a) => [a.name, a.state, a.reason, a.since]),
      [
        ['backend-unhealthy', 'ALARM', 'health check failed: connection refused', first.alarms[0]!.since],
        ['worker-unhealthy', 'INSUFFICIENT_DATA', 'no health check declared', first.alarms[1]!.since],
      ],
    );
  });

  test('capacity lists the processes from PROCESSES_STATE_FILE and counts app tasks per service', async () => {
    const file = join(dir, 'processes.json');
    writeFileSync(
      file,
      JSON.stringify({
        updatedAt: '2026-12-01T22:00:00.000Z',
        processes: [
          { service: 'backend', role: 'app', pid: 101, port: 18081, state: 'running', restarts: 0 },
          { service: 'backend', role: 'sidecar', pid: 102, state: 'running' },
          { service: 'backend', role: 'app', pid: 103, state: 'restarting', restarts: 2 },
        ],
      }),
    );
    const source = new LocalOperationsSource({
      services: [{ name: 'backend' }],
      healthTimeoutMs: 100,
      processesStateFile: file,
    });
    const capacity = await source.capacity();
    assert.deepEqual(capacity.tasks, [{ service: 'backend', desired: 2, running: 1, pending: 1 }]);
    assert.equal(capacity.processes.length, 3);
    assert.equal(capacity.processes[1]!.restarts, 0, 'restarts default to 0');
  });
});
