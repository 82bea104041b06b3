import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RuntimeState } from '../platform.ts';
import { groupAlive, killGroup } from '../supervisor.ts';

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
let groups: number[] = [];
after(() => {
  for (const g of groups) killGroup(g, 'SIGKILL');
});

describe('a supervisor killed with SIGKILL', () => {
  it('leaves no orphans: every child stops itself within a few seconds', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'platform/local/test/fixtures/fixture-platform.ts'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let out = '';
    const state = await new Promise<RuntimeState>((resolveState, reject) => {
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line && out.includes('\n')) resolveState(JSON.parse(line) as RuntimeState);
      });
      child.once('exit', (code) => reject(new Error(`fixture platform exited ${code}`)));
      setTimeout(() => reject(new Error('fixture platform not ready in 30 s')), 30_000).unref();
    });
    groups = state.processes.flatMap((p) => p.processGroups);
    // model, lambda host, backend, pyapi and frontend, the three services each with a sidecar.
    assert.equal(groups.length, 8);
    assert.ok(groups.every((g) => groupAlive(g)));

    child.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    while (groups.some((g) => groupAlive(g)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      groups.filter((g) => groupAlive(g)),
      [],
      'every child noticed its supervisor was gone and stopped',
    );
  });
});
