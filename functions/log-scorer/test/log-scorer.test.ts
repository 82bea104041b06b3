import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { AnomalyRecordSchema } from '../../../contracts/anomaly.ts';
import { PREDICTION_LIMITS } from '../../../contracts/prediction.ts';
import { EndpointError, ScoringClient } from '../../../model/client/scoring-client.ts';
import { loadEvent } from '../../shared/fixtures.ts';
import { chunksOf, MAX_CHUNK_BYTES, scoreSubscriptionEvent, UndecodableEventError } from '../core.ts';
import { emitOutcome } from '../emit.ts';

const runtimeMock = mockClient(SageMakerRuntimeClient);
afterEach(() => runtimeMock.reset());
const MODEL = { name: 'log-anomaly', version: '1', threshold: 0.6 };
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;

const scoring = new ScoringClient({
  endpointName: 'acme-log-anomaly',
  runtime: new SageMakerRuntimeClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  }),
});
const deps = {
  scoring,
  serviceOf: (group: string) => (group === '/acme/instances/system' ? 'instances' : 'other'),
};

function wrap(payload: unknown) {
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(payload))).toString('base64') } };
}
function sentBodies(): Array<{ logs: Array<Record<string, unknown>> }> {
  return runtimeMock
    .commandCalls(InvokeEndpointCommand)
    .map((c) => JSON.parse(new TextDecoder().decode(c.args[0].input.Body as Uint8Array)));
}
/** Runs fn while capturing what it writes to stdout (the EMF and record lines). */
function captureStdout(fn: () => void): string[] {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stdout.write;
  try {
    fn();
  } finally {
    process.stdout.write = original;
  }
  return lines;
}

describe('log-scorer: subscription event → endpoint', () => {
  it('sends the raw events of a delivery to the endpoint and keeps the anomalous ones as records', async () => {
    // Prepare
    runtimeMock.on(InvokeEndpointCommand).resolves({
      Body: encode({
        predictions: [
          { score: 0.05, anomaly: false },
          { score: 0.2, anomaly: false },
          {
            score: 0.93,
            anomaly: true,
            template: 'EXT4-fs error (device <*>): <*>',
            reasons: ['severity:ERROR'],
          },
        ],
        model: MODEL,
      }),
    });
    // Act
    const outcome = await scoreSubscriptionEvent(loadEvent('log-scorer', 'data-message.json'), deps);
    // Assess
    const sent = sentBodies();
    assert.equal(sent.length, 1);
    assert.deepEqual(
      sent[0]!.logs.map((l) => [l.timestamp, l.logStream, l.logGroup]),
      [
        [1764331200000, 'i-0abc123def4567890', '/acme/instances/system'],
        [1764331201000, 'i-0abc123def4567890', '/acme/instances/system'],
        [1764331202000, 'i-0abc123def4567890', '/acme/instances/system'],
      ],
    );
    assert.equal(
      runtimeMock.commandCalls(InvokeEndpointCommand)[0]!.args[0].input.EndpointName,
      'acme-log-anomaly',
    );
    assert.equal(outcome.kind, 'scored');
    if (outcome.kind !== 'scored') return;
    assert.deepEqual(
      {
        scored: outcome.scored,
        anomalous: outcome.anomalous,
        maxScore: outcome.maxScore,
        rejected: outcome.rejected,
      },
      { scored: 3, anomalous: 1, maxScore: 0.93, rejected: [] },
    );
    assert.ok(Math.abs(outcome.meanScore - (0.05 + 0.2 + 0.93) / 3) < 1e-12);
    assert.deepEqual(outcome.records, [
      {
        // The scored log event's own id: unique, and the same when CloudWatch retries the delivery.
        id: '38274812736412876349876234987623498762349876234987623402',
        service: 'instances',
        task: 'i-0abc123def4567890',
        timestamp: '2025-11-28T12:00:02.000Z',
        score: 0.93,
        template: 'EXT4-fs error (device <*>): <*>',
        reasons: ['severity:ERROR'],
        line: 'Nov 28 12:00:02 ip-10-0-3-17 kernel: EXT4-fs error (device nvme0n1p1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0',
      },
    ]);
    assert.equal(AnomalyRecordSchema.safeParse(outcome.records[0]).success, true);
  });

  it('ignores a control message without calling the endpoint', async () => {
    const outcome = await scoreSubscriptionEvent(loadEvent('log-scorer', 'control-message.json'), deps);
    assert.deepEqual(outcome, { kind: 'control' });
    assert.equal(runtimeMock.commandCalls(InvokeEndpointCommand).length, 0);
  });

  it('counts a bad log event and scores the rest', async () => {
    runtimeMock.on(InvokeEndpointCommand).resolves({
      Body: encode({
        predictions: [
          { score: 0.1, anomaly: false },
          { score: 0.2, anomaly: false },
        ],
        model: MODEL,
      }),
    });
    const outcome = await scoreSubscriptionEvent(
      loadEvent('log-scorer', 'data-message-with-bad-event.json'),
      deps,
    );
    assert.equal(outcome.kind, 'scored');
    if (outcome.kind !== 'scored') return;
    assert.equal(outcome.scored, 2);
    assert.deepEqual(outcome.rejected, [
      {
        id: '38274812736412876349876234987623498762349876234987623499',
        reason: 'message: Invalid input: expected string, received number',
      },
    ]);
    assert.equal(sentBodies()[0]!.logs.length, 2);
  });

  it('truncates lines past the contract limit instead of dropping them', async () => {
    runtimeMock
      .on(InvokeEndpointCommand)
      .resolves({ Body: encode({ predictions: [{ score: 0.99, anomaly: true }], model: MODEL }) });
    const long = 'x'.repeat(PREDICTION_LIMITS.maxMessageChars + 10);
    const event = wrap({
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup: '/elsewhere',
      logStream: 's',
      subscriptionFilters: ['f'],
      logEvents: [{ id: '1', timestamp: 0, message: long }],
    });
    const outcome = await scoreSubscriptionEvent(event, deps);
    assert.equal(outcome.kind, 'scored');
    if (outcome.kind !== 'scored') return;
    assert.equal(outcome.truncated, 1);
    assert.equal(outcome.service, 'other');
    assert.equal((sentBodies()[0]!.logs[0]!.message as string).length, PREDICTION_LIMITS.maxMessageChars);
    assert.equal(outcome.records[0]!.line.length, 8192);
  });

  it('rejects an envelope that is not gzip + base64 JSON with UndecodableEventError', async () => {
    await assert.rejects(
      scoreSubscriptionEvent({ awslogs: { data: 'bm90IGd6aXA=' } }, deps),
      (error: unknown) => {
        assert.ok(error instanceof UndecodableEventError);
        assert.match(error.message, /^awslogs\.data is not gzip-compressed JSON/);
        return true;
      },
    );
    await assert.rejects(scoreSubscriptionEvent({ Records: [] }, deps), UndecodableEventError);
    await assert.rejects(
      scoreSubscriptionEvent(wrap({ messageType: 'DATA_MESSAGE' }), deps),
      UndecodableEventError,
    );
  });

  it('propagates an endpoint failure (the async invocation is retried, then dead-lettered)', async () => {
    runtimeMock
      .on(InvokeEndpointCommand)
      .rejects(Object.assign(new Error('down'), { name: 'ServiceUnavailable' }));
    await assert.rejects(
      scoreSubscriptionEvent(loadEvent('log-scorer', 'data-message.json'), deps),
      (error: unknown) => {
        assert.ok(error instanceof EndpointError);
        assert.equal(error.failure, 'unavailable');
        return true;
      },
    );
  });

  it('splits large deliveries by batch limit and by serialised bytes', () => {
    const item = (message: string) => ({ event: { timestamp: 0, message } });
    const byCount = chunksOf(Array.from({ length: PREDICTION_LIMITS.maxBatch * 2 + 1 }, () => item('a')));
    assert.deepEqual(
      byCount.map((c) => c.length),
      [PREDICTION_LIMITS.maxBatch, PREDICTION_LIMITS.maxBatch, 1],
    );
    // Control characters serialise as \u00XX (6 bytes each): 120 KiB of them is ~720 KiB of JSON.
    const heavy = '\u0001'.repeat(120 * 1024);
    const byBytes = chunksOf(Array.from({ length: 12 }, () => item(heavy)));
    for (const chunk of byBytes) {
      assert.ok(
        Buffer.byteLength(JSON.stringify({ logs: chunk.map((c) => c.event) })) <= MAX_CHUNK_BYTES + 16,
      );
    }
    assert.deepEqual(
      byBytes.map((c) => c.length),
      [5, 5, 2],
    );
  });
});

describe('log-scorer: EMF and records', () => {
  it('writes one EMF document with the shared metric names under Service only, then the records', () => {
    const record = {
      id: '38412',
      service: 'instances',
      task: 'i-1',
      timestamp: '2025-11-28T12:00:02.000Z',
      score: 0.9,
      line: 'boom',
    };
    const lines = captureStdout(() =>
      emitOutcome(
        {
          kind: 'scored',
          service: 'instances',
          logGroup: '/acme/instances/system',
          logStream: 'i-1',
          scored: 3,
          anomalous: 1,
          maxScore: 0.9,
          meanScore: 0.4,
          scoreSum: 1.5,
          records: [record],
          rejected: [{ id: 'x', reason: 'bad' }],
          truncated: 0,
        },
        (line) => process.stdout.write(`${line}\n`),
      ),
    );
    assert.equal(lines.length, 2);
    const emf = JSON.parse(lines[0]!);
    assert.deepEqual(emf._aws.CloudWatchMetrics, [
      {
        Namespace: 'Platform/LogAnomaly',
        Dimensions: [['Service']],
        Metrics: [
          { Name: 'LinesScored', Unit: 'Count' },
          { Name: 'AnomalousLines', Unit: 'Count' },
          { Name: 'RecordsDropped', Unit: 'Count' },
          { Name: 'MaxScore', Unit: 'None' },
          { Name: 'MeanScore', Unit: 'None' },
        ],
      },
    ]);
    assert.deepEqual(
      [emf.Service, emf.LinesScored, emf.AnomalousLines, emf.RecordsDropped, emf.MaxScore, emf.MeanScore],
      ['instances', 3, 1, 1, 0.9, 0.5],
    );
    assert.deepEqual(JSON.parse(lines[1]!), record);
  });
});
