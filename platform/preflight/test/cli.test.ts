import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runScript } from '../../../test/support/platform.ts';

/** `npm run preflight` as a process: this repository's declaration passes; a tiny one is blocked. */

function preflight(env: Record<string, string> = {}) {
  return runScript('preflight', [], { env, cleanEnv: true });
}

describe('npm run preflight', () => {
  // This repository declares two environments; each is checked as it would be deployed.
  for (const environment of ['staging', 'production']) {
    it(`passes this repository's declaration in ${environment} (exit 0, no blocker)`, async () => {
      const result = await preflight({ PLATFORM_ENVIRONMENT: environment });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`^preflight: acme-${environment}\n`));
      assert.match(result.stdout, /\n0 blockers, \d+ warnings\n$/);
      assert.doesNotMatch(result.stdout, /^BLOCK/m);
    });
  }

  it('exits 1 naming the blocker of a declaration that cannot fit a rollout', async () => {
    const result = await preflight({
      PLATFORM_DECLARATION: fileURLToPath(new URL('./fixtures/tiny-rollout.declaration.ts', import.meta.url)),
    });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const blocks = result.stdout.split('\n').filter((l) => l.startsWith('BLOCK'));
    assert.deepEqual(blocks, [
      "BLOCK awsvpc task ENIs: a rollout at maximumPercent 200% runs 2 tasks (the services' minimum of 1, old and new side by side); at most 1 task ENIs exist at maximum instances (1..1 instances × 1 task ENIs each, t3.micro: 2 ENIs − 1 primary): the new tasks cannot be placed and the rollout never completes",
    ]);
    assert.match(result.stdout, /\n1 blocker, \d+ warnings\n$/);
  });
});
