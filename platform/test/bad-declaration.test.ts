import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runScript } from '../../test/support/platform.ts';

/**
 * What a newcomer meets with a bad declaration: every command of the CLI that reads the declaration
 * (`npm start`, `npm run synth`, `npm run preflight`, `npm run deploy`) prints its message alone (no
 * stack trace) and exits 2, before anything is rendered.
 */

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const ENTRIES = [
  { command: 'npm start', script: 'start', args: [] },
  { command: 'npm run synth', script: 'synth', args: [] },
  { command: 'npm run preflight', script: 'preflight', args: [] },
  { command: 'npm run deploy -- status', script: 'deploy', args: ['status'] },
];

/** Runs the entry as `npm run <script> -- <args>` does, from a clean environment. */
function run(script: string, declaration: string, args: readonly string[] = []) {
  return runScript(script, args, {
    cleanEnv: true,
    timeoutMs: 60_000,
    env: {
      PLATFORM_DECLARATION: declaration,
      CDK_OUTDIR: '/nonexistent/cdk.out',
      LOCAL_STATE_FILE: '/dev/null',
      WEB_PORT: '0',
      API_PORT: '0',
      MODEL_PORT: '0',
    },
  });
}

describe('a bad declaration at the entry points', () => {
  for (const { command, script, args } of ENTRIES) {
    it(`${command}: an early error is its message alone, exit 2`, async () => {
      const result = await run(script, fixture('bad-scaling.declaration.ts'), args);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(
        result.stderr,
        'acme/backend: scaling.min (0) must be ≥ 1. Fix: set scaling.min to 1 or more.\n',
      );
      assert.equal(result.stdout, '');
    });

    it(`${command}: late errors are listed together, exit 2`, async () => {
      const result = await run(script, fixture('no-web-service.declaration.ts'), args);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(
        result.stderr,
        [
          'the declaration has 2 errors:',
          '- acme: web services (0) must be ≥ 1. Fix: declare a WebService; the ALB needs a public service to route to.',
          "- acme/backend: anomaly.enabled (true) needs a model endpoint. Fix: declare new ModelEndpoint(platform, 'log-anomaly', …) or set anomaly.enabled to false.",
          '',
        ].join('\n'),
      );
      assert.doesNotMatch(result.stderr, /^\s+at /m);
    });
  }

  it('names a missing declaration file', async () => {
    const result = await run('synth', 'config/nope.ts');
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr,
      "(declaration): file ('config/nope.ts') does not exist. Fix: point --declaration or PLATFORM_DECLARATION at a module that exports the App (export default app).\n",
    );
  });

  it('reads --declaration FILE before PLATFORM_DECLARATION', async () => {
    const result = await run('preflight', fixture('no-web-service.declaration.ts'), [
      '--declaration',
      fixture('bad-scaling.declaration.ts'),
    ]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr,
      'acme/backend: scaling.min (0) must be ≥ 1. Fix: set scaling.min to 1 or more.\n',
    );
  });
});
