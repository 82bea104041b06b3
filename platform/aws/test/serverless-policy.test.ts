import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { unacknowledgedFindings } from '../validation.ts';
import { composeServerless, serverlessFixture } from './serverless-builder.ts';

/** Paths of the fixture's stand-ins for the platform core (their findings belong to the core's tests). */
const FIXTURE = /^Serverless\/(Vpc|Cluster|InstanceRole|Logging|Notifications)\//;

describe('Serverless units under the policy gate (cdk-nag AwsSolutions + cfn-guard Control Tower)', () => {
  // GIVEN every serverless unit composed as the stack will WHEN synthesised with both plugins
  const f = serverlessFixture({ validate: true });
  after(() => f.dispose());
  composeServerless(f);
  let directory: string;
  try {
    directory = f.app.synth().directory;
  } catch {
    // In-memory mode throws when findings remain; the report is still written.
    directory = f.outdir;
  }

  it('leaves no unacknowledged finding on the serverless constructs', () => {
    const mine = unacknowledgedFindings(directory).filter((finding) => !FIXTURE.test(finding.resource));
    assert.deepEqual(mine, []);
  });
});
