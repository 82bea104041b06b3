import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANOMALY_METRIC_NAMESPACE } from '../../../contracts/anomaly.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { EMF_METRICS, emfDocument } from '../src/emf.ts';
import { TEST_INTAKE_TOKEN } from './support.ts';

/** Units CloudWatch accepts (EMF spec, MetricDefinition.Unit). */
const UNITS = new Set(['None', 'Count', 'Percent', 'Seconds', 'Milliseconds', 'Bytes', 'Count/Second']);

/**
 * Validates a line against the EMF specification's rules: root `_aws` with an integer `Timestamp` and a
 * `CloudWatchMetrics` array of directives; each directive has a `Namespace`, `Dimensions` (arrays of at
 * most 30 names, each a top-level string member) and `Metrics` (at most 100, each naming a top-level
 * numeric member, with a valid unit).
 */
function assertEmf(line: string): Record<string, unknown> {
  const doc = JSON.parse(line) as Record<string, unknown>;
  const aws = doc._aws as { Timestamp: unknown; CloudWatchMetrics: unknown };
  assert.ok(aws && typeof aws === 'object', '_aws is an object');
  assert.ok(Number.isInteger(aws.Timestamp) && (aws.Timestamp as number) > 0, 'Timestamp is epoch ms');
  assert.ok(Array.isArray(aws.CloudWatchMetrics) && aws.CloudWatchMetrics.length > 0);
  for (const directive of aws.CloudWatchMetrics as Record<string, unknown>[]) {
    assert.equal(typeof directive.Namespace, 'string');
    assert.ok(Array.isArray(directive.Dimensions));
    for (const set of directive.Dimensions as unknown[]) {
      assert.ok(Array.isArray(set) && set.length <= 30);
      for (const name of set as unknown[])
        assert.equal(typeof doc[name as string], 'string', `dimension ${name}`);
    }
    const metrics = directive.Metrics as { Name: string; Unit?: string }[];
    assert.ok(Array.isArray(metrics) && metrics.length <= 100);
    for (const metric of metrics) {
      const value = doc[metric.Name];
      assert.ok(typeof value === 'number' && Number.isFinite(value), `metric ${metric.Name} is a number`);
      if (metric.Unit !== undefined) assert.ok(UNITS.has(metric.Unit), `unit ${metric.Unit}`);
    }
  }
  return doc;
}

describe('EMF', () => {
  it('an interval with scores parses as EMF, in the anomaly namespace, by Service (the one dimension set), the cluster as a property', () => {
    const line = JSON.stringify(
      emfDocument({
        service: 'backend',
        cluster: 'acme',
        timestamp: 1718000000000,
        stats: { scored: 4, anomalous: 1, maxScore: 0.9, scoreSum: 1.2, dropped: 2 },
      }),
    );
    const doc = assertEmf(line);
    assert.deepEqual(doc, {
      _aws: {
        Timestamp: 1718000000000,
        CloudWatchMetrics: [
          {
            Namespace: ANOMALY_METRIC_NAMESPACE,
            Dimensions: [['Service']],
            Metrics: [
              { Name: 'LinesScored', Unit: 'Count' },
              { Name: 'AnomalousLines', Unit: 'Count' },
              { Name: 'RecordsDropped', Unit: 'Count' },
              { Name: 'MaxScore', Unit: 'None' },
              { Name: 'MeanScore', Unit: 'None' },
            ],
          },
        ],
      },
      Service: 'backend',
      Cluster: 'acme',
      LinesScored: 4,
      AnomalousLines: 1,
      RecordsDropped: 2,
      MaxScore: 0.9,
      MeanScore: 0.3,
    });
  });

  it('an interval that scored nothing leaves the score metrics out (no data, not a zero)', () => {
    const doc = assertEmf(
      JSON.stringify(
        emfDocument({
          service: 's',
          cluster: 'c',
          timestamp: 1,
          stats: { scored: 0, anomalous: 0, maxScore: 0, scoreSum: 0, dropped: 5 },
        }),
      ),
    );
    assert.equal(doc[EMF_METRICS.maxScore], undefined);
    assert.equal(doc[EMF_METRICS.dropped], 5);
  });
});

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({
      SERVICE_NAME: 'backend',
      ENDPOINT_NAME: 'log-anomaly',
      INTAKE_TOKEN: TEST_INTAKE_TOKEN,
    });
    assert.equal(config.port, 9880);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.clusterName, 'local');
    assert.equal(config.batchMaxRecords, 500);
    assert.equal(config.endpointUrl, undefined);
    assert.equal(config.anomalyThreshold, undefined);
  });

  it("accepts the local runtime's MODEL_ENDPOINT_* aliases", () => {
    const config = loadConfig({
      SERVICE_NAME: 'backend',
      INTAKE_TOKEN: TEST_INTAKE_TOKEN,
      MODEL_ENDPOINT_NAME: 'log-anomaly',
      MODEL_ENDPOINT_URL: 'http://127.0.0.1:8082',
      ANOMALY_THRESHOLD: '0.7',
    });
    assert.equal(config.endpointName, 'log-anomaly');
    assert.equal(config.endpointUrl, 'http://127.0.0.1:8082');
    assert.equal(config.anomalyThreshold, 0.7);
  });

  it('names every bad variable', () => {
    assert.throws(
      () =>
        loadConfig({
          ENDPOINT_NAME: 'a',
          MODEL_ENDPOINT_NAME: 'b',
          BATCH_MAX_RECORDS: '9000',
          ANOMALY_THRESHOLD: '2',
          ENDPOINT_URL: 'ftp://x',
          INTAKE_TOKEN: 'short',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(
          error.problems.map((p) => p.split(':')[0]),
          [
            "ENDPOINT_NAME ('a') and its alias MODEL_ENDPOINT_NAME ('b') disagree; set one",
            'INTAKE_TOKEN',
            'SERVICE_NAME',
            'ENDPOINT_URL',
            'ANOMALY_THRESHOLD',
            'BATCH_MAX_RECORDS',
          ],
        );
        return true;
      },
    );
  });
});
