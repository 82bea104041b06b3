import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * Issue 25: the AWS SDK printed a 9-line NodeVersionSupportWarning from four processes on every
 * `npm start`. Each of our processes that builds an SDK client imports runtime/aws-sdk-node-warning.ts
 * first, which sets the SDK's documented switch in that process only.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODULE = fileURLToPath(new URL('../aws-sdk-node-warning.ts', import.meta.url));

/** Stderr of a fresh Node process that builds a CloudWatch client, with or without the module first. */
function stderrOfClient(withModule: boolean): string {
  const code = `${withModule ? `await import(${JSON.stringify(MODULE)});` : ''}
    const { CloudWatchClient } = await import('@aws-sdk/client-cloudwatch');
    new CloudWatchClient({ region: 'us-east-1' });`;
  const env = { ...process.env };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stderr;
}

describe('no AWS SDK Node-version warning from our processes', () => {
  const major = Number(process.versions.node.split('.')[0]);

  it('the SDK warns on this Node without the switch (the case the module exists for)', {
    skip: major >= 22 ? `Node ${major}: the SDK does not warn` : false,
  }, () => {
    assert.match(stderrOfClient(false), /NodeVersionSupportWarning/);
  });

  it('a process that imports the module first builds clients without it', () => {
    assert.doesNotMatch(stderrOfClient(true), /NodeVersionSupportWarning/);
  });

  it('every entry point that builds SDK clients imports it before anything else', () => {
    for (const entry of [
      'services/backend/main.ts',
      'services/anomaly-sidecar/main.ts',
      'platform/local/lambda-host.ts',
    ]) {
      const firstImport = readFileSync(`${ROOT}${entry}`, 'utf8').match(/^import .*$/m)?.[0];
      assert.match(firstImport ?? '', /^import '[./]+\/runtime\/aws-sdk-node-warning\.ts';$/, entry);
    }
    // The CLI (deploy among its commands) may not import runtime/ (the layout table): it sets the switch itself.
    assert.match(
      readFileSync(`${ROOT}platform/cli/main.ts`, 'utf8'),
      /^process\.env\.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED \?\?= 'true';$/m,
    );
  });
});
