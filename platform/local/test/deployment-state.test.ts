import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { processesFile } from '../deployment-state.ts';
import type { ServiceRevisions } from '../revisions.ts';

/** The processes the console's capacity panel lists, as the local runtime writes them. */
describe('processesFile', () => {
  const unit = (pid: number | undefined, running: boolean, healthy: boolean) =>
    ({ proc: { pid, running, restarts: running ? 0 : 1 }, plan: { port: 41001 }, healthy }) as never;
  const revisions = new Map<string, ServiceRevisions>([
    [
      'backend',
      {
        service: 'backend',
        all: [
          { label: 'backend:1', startedAt: 0, app: unit(101, true, true), sidecar: unit(102, true, true) },
          {
            label: 'backend:2',
            startedAt: 0,
            app: unit(103, true, false),
            sidecar: unit(undefined, false, false),
          },
        ],
      } as unknown as ServiceRevisions,
    ],
  ]);

  it('says which processes run, start, or are down and being restarted', () => {
    assert.deepEqual(
      processesFile(revisions).processes.map((p) => [p.revision, p.role, p.state]),
      [
        ['backend:1', 'app', 'running'],
        ['backend:1', 'sidecar', 'running'],
        ['backend:2', 'app', 'starting'],
        ['backend:2', 'sidecar', 'restarting'],
      ],
    );
  });
});
