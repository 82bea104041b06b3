import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runScript } from '../../test/support/platform.ts';

/**
 * What a newcomer meets with a bad declaration: `npm start`, `npm run synth` and `npm run preflight`
 * print the declaration's message alone (no stack trace) and exit 2.
 */

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const ENTRIES = [
  { command: 'npm start', script: 'start' },
  { command: 'npm run synth', script: 'synth' },
  { command: 'npm run preflight', script: 'preflight' },
];

/** Runs the entry as `npm run <script>` does, from a clean environment. */
function run(script: string, declaration: string) {
  return runScript(script, [], {
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
  for (const { command, script } of ENTRIES) {
    it(`${command}: an early error is its message alone, exit 2`, async () => {
      const result = await run(script, fixture('bad-scaling.declaration.ts'));
      assert.equal(result.code, 2, result.stderr);
      assert.equal(
        result.stderr,
        'acme/backend: scaling.min (0) must be ≥ 1. Fix: set scaling.min to 1 or more.\n',
      );
      assert.equal(result.stdout, '');
    });

    it(`${command}: late errors are listed together, exit 2`, async () => {
      const result = await run(script, fixture('no-web-service.declaration.ts'));
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
      "the declaration has 1 error:\n- (declaration): file ('config/nope.ts') does not exist. Fix: point PLATFORM_DECLARATION at a module that exports declarePlatform().\n",
    );
  });
});
