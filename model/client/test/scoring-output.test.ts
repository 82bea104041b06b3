import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnomalyRecordSchema, MAX_RECORDED_LINE_CHARS } from '../../../contracts/anomaly.ts';
import { anomalyEmfDocument, anomalyRecord, isAnomalous, summarizeBatch } from '../scoring-output.ts';

describe('scoring output builders', () => {
  const prediction = { score: 0.8, anomaly: true };

  it('takes the line’s own timestamp, a syslog header’s year from the transport, else the transport time', () => {
    const eventTime = Date.UTC(2025, 10, 28, 12, 5);
    const at = (line: string) =>
      anomalyRecord({ id: 'r-1', service: 's', task: 't', line, eventTime, prediction }).timestamp;
    assert.equal(at('2025-11-28T12:00:02.000Z ERROR boom'), '2025-11-28T12:00:02.000Z');
    assert.equal(at('Nov 28 12:00:02 host kernel: EXT4-fs error'), '2025-11-28T12:00:02.000Z');
    assert.equal(at('no timestamp here'), new Date(eventTime).toISOString());
  });

  it('truncates the line, names it by the model’s template or the fallback, and validates as a record', () => {
    const long = `ERROR ${'x'.repeat(MAX_RECORDED_LINE_CHARS)}`;
    const record = anomalyRecord({
      id: 'r-2',
      service: 's',
      task: 't',
      container: 'app',
      line: long,
      eventTime: 0,
      prediction: { ...prediction, reasons: ['new-template'] },
      templateOf: (message) => `mined:${message.slice(0, 3)}`,
    });
    assert.equal(record.line.length, MAX_RECORDED_LINE_CHARS);
    assert.equal(record.template, 'mined:xxx');
    assert.deepEqual(record.reasons, ['new-template']);
    assert.equal(AnomalyRecordSchema.safeParse(record).success, true);
    const named = anomalyRecord({
      id: 'r-3',
      service: 's',
      task: 't',
      line: 'a',
      eventTime: 0,
      prediction: { score: 1, template: 'T' },
      templateOf: () => 'no',
    });
    assert.equal(named.template, 'T');
  });

  it('one threshold rule: the caller’s threshold when set, else the model’s decision', () => {
    assert.equal(isAnomalous({ score: 0.6, anomaly: false }, 0.5), true);
    assert.equal(isAnomalous({ score: 0.6, anomaly: true }, 0.7), false);
    assert.equal(isAnomalous({ score: 0.6, anomaly: false }), false);
    const summary = summarizeBatch(
      [
        { score: 0.2, anomaly: false },
        { score: 0.9, anomaly: true },
        { score: 0.6, anomaly: false },
      ],
      0.5,
    );
    assert.deepEqual(summary, {
      scored: 3,
      anomalous: 2,
      maxScore: 0.9,
      scoreSum: 1.7000000000000002,
      flags: [false, true, true],
    });
  });

  it('EMF: one dimension set, score metrics left out when nothing was scored', () => {
    const empty = anomalyEmfDocument({
      service: 's',
      timestamp: 1,
      stats: { scored: 0, anomalous: 0, maxScore: 0, scoreSum: 0, dropped: 3 },
    });
    const aws = empty._aws as {
      CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[];
    };
    assert.deepEqual(aws.CloudWatchMetrics[0]!.Dimensions, [['Service']]);
    assert.deepEqual(
      aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name),
      ['LinesScored', 'AnomalousLines', 'RecordsDropped'],
    );
    assert.equal(empty.Cluster, undefined);
    assert.equal(empty.RecordsDropped, 3);
  });
});
