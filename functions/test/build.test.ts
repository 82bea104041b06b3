import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { startFakeAws } from '../../test/support/fake-aws-server.ts';
import { bundleEntry, inlineSchemaKeys } from '../build.ts';

describe('inlineSchemaKeys', () => {
  it('replaces computed keys declared as string constants by their literal, nothing else', () => {
    const source = [
      'const _xN = "xmlName";',
      'const _q = "say \\"hi\\"";',
      'const n0 = "com.amazonaws.ec2";',
      'export var A$ = [3, n0, _xN, 0, [_q], [[0, { [_xN]: _q, [_q]: 1, [other]: 2 }]]];',
    ].join('\n');
    const out = inlineSchemaKeys(source);
    assert.equal(
      out.split('\n')[3],
      'export var A$ = [3, n0, _xN, 0, [_q], [[0, { ["xmlName"]: _q, ["say \\"hi\\""]: 1, [other]: 2 }]]];',
    );
    assert.equal(out.split('\n').slice(0, 3).join('\n'), source.split('\n').slice(0, 3).join('\n'));
  });
});

describe('function bundles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fn-bundle-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keep every SDK client working while dropping the shapes no command uses', async () => {
    const bundle = await bundleEntry(
      join(import.meta.dirname, 'fixtures', 'sdk-probe.ts'),
      join(dir, 'probe.mjs'),
    );
    // Without the schema-key rewrite EC2 alone contributes ~550 KB (every shape of the service).
    assert.ok((bundle.byPackage['@aws-sdk/client-ec2'] ?? 0) < 40_000, JSON.stringify(bundle.byPackage));
    assert.ok((bundle.byPackage['@aws-sdk/client-ecs'] ?? 0) < 40_000, JSON.stringify(bundle.byPackage));

    const aws = await startFakeAws();
    try {
      const { probe } = (await import(
        pathToFileURL(bundle.file).href
      )) as typeof import('./fixtures/sdk-probe.ts');
      const result = await probe(aws.url);
      assert.deepEqual(result, { reboot: 200, desiredCount: 3, messageId: 'm-1', consumed: 1 });
    } finally {
      await aws.close();
    }
    const bodies = aws.requests.map((r) => r.body);
    assert.equal(
      bodies[0],
      'Action=RebootInstances&Version=2016-11-15&InstanceId.1=i-0abc&InstanceId.2=i-0def',
    );
    assert.deepEqual(JSON.parse(bodies[1]!), { cluster: 'acme', service: 'backend', desiredCount: 3 });
    assert.deepEqual(Object.fromEntries(new URLSearchParams(bodies[2])), {
      Action: 'Publish',
      Version: '2010-03-31',
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops',
      Message: 'scaled',
    });
    assert.deepEqual(JSON.parse(bodies[3]!), {
      TableName: 'ledger',
      Item: { pk: { S: 'evt-1' }, n: { N: '2' } },
    });
  });
});
