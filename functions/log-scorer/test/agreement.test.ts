import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { LogsRequest, PredictionResponse } from '../../../contracts/prediction.ts';
import { ScoringPipeline } from '../../../services/anomaly-sidecar/src/scoring-pipeline.ts';
import { testConfig } from '../../../services/anomaly-sidecar/test/support.ts';
import { scoreSubscriptionEvent } from '../core.ts';
import { emitOutcome } from '../emit.ts';

/**
 * The sidecar and the log-scorer build their output in one place (model/client/scoring-output.ts): the
 * same line with the same prediction gives the same anomaly record, and both write EMF with one
 * dimension set.
 */

const LINE_TIME = '2025-11-28T12:00:02.000Z';
const LINE = `${LINE_TIME} ERROR database connection refused: connect ECONNREFUSED 10.0.0.1:5432`;
/** Transport time (Fluent Bit's `date`, CloudWatch's event time): a minute after the line was written. */
const TRANSPORT_MS = Date.parse(LINE_TIME) + 60_000;
const PREDICTION = {
  score: 0.55,
  anomaly: false,
  template: 'database connection refused: connect ECONNREFUSED <*>',
  reasons: ['new-template'],
};
const answer = (n: number): PredictionResponse => ({
  predictions: Array.from({ length: n }, () => PREDICTION),
  model: { name: 'm', version: '1', threshold: 0.5 },
});

async function fromSidecar(threshold?: number) {
  const out: string[] = [];
  const pipeline = new ScoringPipeline(
    testConfig({ batchMaxAgeMs: 1, ...(threshold !== undefined ? { anomalyThreshold: threshold } : {}) }),
    {
      scorer: { score: async (r: LogsRequest) => answer(r.logs.length) },
      writeOut: (text) => out.push(...text.trimEnd().split('\n')),
      stdoutBacklog: () => 0,
      log: () => {},
    },
  );
  pipeline.ingest({
    records: [{ time: TRANSPORT_MS, line: LINE, task: 'task-1', container: 'app' }],
    rejected: { malformed: 0, oversized: 0 },
  } as never);
  await pipeline.whenIdle();
  await pipeline.stop(0);
  return out.map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function fromLogScorer(threshold?: number) {
  const event = {
    awslogs: {
      data: gzipSync(
        JSON.stringify({
          messageType: 'DATA_MESSAGE',
          owner: '1',
          logGroup: '/acme/backend',
          logStream: 'task-1',
          subscriptionFilters: ['f'],
          logEvents: [{ id: '1', timestamp: TRANSPORT_MS, message: LINE }],
        }),
      ).toString('base64'),
    },
  };
  const outcome = await scoreSubscriptionEvent(event, {
    scoring: { score: async (r) => answer((r as LogsRequest).logs.length) },
    serviceOf: () => 'backend',
    ...(threshold !== undefined ? { threshold } : {}),
  });
  assert.equal(outcome.kind, 'scored');
  const out: string[] = [];
  emitOutcome(
    outcome as never,
    (line) => out.push(line),
    () => TRANSPORT_MS,
  );
  return out.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('one home for scoring output: sidecar and log-scorer agree', () => {
  it('the same line and prediction give the same anomaly record (the line’s own timestamp, the same threshold rule)', async () => {
    const sidecar = (await fromSidecar(0.5)).filter((l) => !('_aws' in l));
    const scorer = (await fromLogScorer(0.5)).filter((l) => !('_aws' in l));
    assert.equal(sidecar.length, 1);
    assert.equal(sidecar[0]!.timestamp, LINE_TIME);
    // Each writer names its records its own way (run id and sequence; the log event's id); the rest agrees.
    const { container: _c, id: sidecarId, ...sidecarRecord } = sidecar[0]!;
    const { id: scorerId, ...scorerRecord } = scorer[0]!;
    assert.match(String(sidecarId), /^[0-9a-f]{12}-0$/);
    assert.equal(scorerId, '1');
    assert.deepEqual([scorerRecord], [sidecarRecord]);
    // Without a threshold both follow the model's decision (here: not an anomaly).
    assert.equal((await fromSidecar()).filter((l) => !('_aws' in l)).length, 0);
    assert.equal((await fromLogScorer()).filter((l) => !('_aws' in l)).length, 0);
  });

  it('both write EMF under the same single dimension set', async () => {
    const sidecar = (await fromSidecar()).find((l) => '_aws' in l) as {
      _aws: { CloudWatchMetrics: { Dimensions: unknown }[] };
    };
    const scorer = (await fromLogScorer()).find((l) => '_aws' in l) as typeof sidecar;
    assert.deepEqual(sidecar._aws.CloudWatchMetrics[0]!.Dimensions, [['Service']]);
    assert.deepEqual(scorer._aws.CloudWatchMetrics[0]!.Dimensions, [['Service']]);
  });
});
