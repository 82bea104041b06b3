import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { type ExitedRun, ROOT, runTypeScript } from '../../test/support/processes.ts';
import { waitFor } from '../../test/support/wait-for.ts';

/**
 * Every long-running process of the platform, started as its real entry point with a bad environment:
 * each stops with exactly one JSON line on stderr naming the variable, and exit code 1.
 */

interface Entry {
  readonly name: string;
  readonly file: string;
  /** What the process needs besides the variable under test. */
  readonly env: Record<string, string>;
}

const ENTRIES: readonly Entry[] = [
  { name: 'backend', file: 'services/backend/main.ts', env: {} },
  { name: 'frontend', file: 'services/frontend/server/main.ts', env: {} },
  {
    name: 'anomaly-sidecar',
    file: 'services/anomaly-sidecar/main.ts',
    env: {
      SERVICE_NAME: 'backend',
      ENDPOINT_NAME: 'log-anomaly',
      INTAKE_TOKEN: 'process-startup-intake-token-0123456789abcdef',
    },
  },
  { name: 'model-server', file: 'model/serve/main.ts', env: {} },
  {
    name: 'lambda-host',
    file: 'platform/local/lambda-host.ts',
    env: { LAMBDA_HANDLER: 'functions/predict/handler.ts#handler' },
  },
];

const run = (file: string, env: Record<string, string>, timeoutMs = 30_000) =>
  runTypeScript(file, { env: { AWS_EC2_METADATA_DISABLED: 'true', ...env }, cleanEnv: true, timeoutMs });

interface FailureLine {
  readonly level: string;
  readonly msg: string;
  readonly process: string;
  readonly issues: readonly { variable: string; message: string }[];
}

function onlyLine(result: ExitedRun): FailureLine {
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `exactly one line on stderr, got:\n${result.stderr}`);
  assert.equal(result.stdout, '', 'nothing on stdout');
  return JSON.parse(lines[0]!) as FailureLine;
}

describe('process start-up with a bad environment', () => {
  for (const entry of ENTRIES) {
    it(`${entry.name}: PORT=abc → one JSON line naming PORT, exit 1`, async () => {
      const result = await run(entry.file, { ...entry.env, PORT: 'abc' });
      assert.equal(result.code, 1, result.stderr);
      const line = onlyLine(result);
      assert.equal(line.level, 'error');
      assert.equal(line.msg, 'invalid environment');
      assert.equal(line.process, entry.name);
      assert.deepEqual(
        line.issues.map((i) => i.variable),
        ['PORT'],
      );
      assert.match(line.issues[0]!.message, /whole number/);
    });
  }

  it('an empty value counts as unset: PORT= and a bad HOST name only HOST (lambda-host)', async () => {
    // Before: '' was coerced to 0, a random port; now it is the default, and the only issue is HOST.
    const result = await run('platform/local/lambda-host.ts', {
      LAMBDA_HANDLER: 'functions/predict/handler.ts#handler',
      PORT: '',
      AWS_LAMBDA_FUNCTION_TIMEOUT: '',
      HOST: ' ',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 'lots',
    });
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual(
      onlyLine(result).issues.map((i) => i.variable),
      ['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'],
    );
  });

  it('an empty PORT is the default port, not a random one (model server)', async () => {
    // Binds the documented default 8080 on loopback, or fails on it when something holds it: either
    // way the port named is 8080, where '' used to become port 0.
    const child = spawn(process.execPath, ['--import', 'tsx', 'model/serve/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: '', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    await waitFor(
      'the model server to name its port',
      30_000,
      () => /(:\d+)|EADDRINUSE/.test(output) || child.exitCode !== null,
    );
    const exited = child.exitCode !== null ? Promise.resolve() : once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
    assert.match(output, /127\.0\.0\.1:8080|EADDRINUSE.*8080/, output);
  });
});
