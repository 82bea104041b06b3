import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LocalProcessesState } from '../../../contracts/console-ops.ts';
import { LocalOperationsSource } from '../src/local-operations-source.ts';

/** A worker answers no HTTP: locally the console's health for it is its app process's, from the supervisor. */

describe("a worker's health, locally", () => {
  const services = [{ name: 'mailer', kind: 'worker' as const }];
  const stateWith = (state: LocalProcessesState['processes'][number]['state'], restarts: number) => {
    const file = join(mkdtempSync(join(tmpdir(), 'worker-health-')), 'processes.json');
    const value: LocalProcessesState = {
      updatedAt: '2026-12-07T06:00:00.000Z',
      processes: [
        { service: 'mailer', role: 'app', state, restarts },
        { service: 'mailer', role: 'sidecar', state: 'running', restarts: 0 },
      ],
    };
    writeFileSync(file, JSON.stringify(value));
    return file;
  };
  const healthOf = async (processesStateFile?: string) =>
    (
      await new LocalOperationsSource({
        services,
        healthTimeoutMs: 100,
        ...(processesStateFile ? { processesStateFile } : {}),
      }).serviceHealth()
    ).services[0]!;

  it('is up while its process runs, down while it restarts, and says so', async () => {
    const up = await healthOf(stateWith('running', 0));
    assert.deepEqual([up.kind, up.health, up.detail], ['worker', 'up', 'process running']);
    const down = await healthOf(stateWith('restarting', 2));
    assert.deepEqual([down.health, down.detail], ['down', 'process restarting, 2 restarts']);
  });

  it('is unknown without the supervisor’s file (never guessed up)', async () => {
    const unknown = await healthOf();
    assert.deepEqual([unknown.kind, unknown.health], ['worker', 'unknown']);
  });
});
