import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { AnomalyRecordSchema } from '../../../contracts/anomaly.ts';
import type { IntakeRecord, IntakeResult } from '../src/intake.ts';
import { ScoringPipeline } from '../src/scoring-pipeline.ts';
import {
  eventually,
  type SwitchableEndpoint,
  scorerFor,
  startSwitchableEndpoint,
  testConfig,
} from './support.ts';

/**
 * The scoring pipeline against the real inference server (model/serve) through the real SageMaker
 * runtime client, with a switchable HTTP front to take the endpoint down and bring it back.
 */

const TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/acme-cluster/0123';
const record = (line: string): IntakeRecord => ({
  time: 1718000000000,
  line,
  container: 'backend',
  task: TASK,
});
const body = (lines: string[]): IntakeResult => ({
  records: lines.map(record),
  rejected: { malformed: 0, oversized: 0 },
});
const routine = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `INFO request ${from + i} served in ${i % 9} ms`);

let endpoint: SwitchableEndpoint;
let out: string[];
let pipelines: ScoringPipeline[] = [];
const endpointNames = new Map<ScoringPipeline, string>();

/** A pipeline calling an endpoint name of its own, so the calls a test counts are its pipeline's. */
function pipeline(overrides: Parameters<typeof testConfig>[0] = {}): ScoringPipeline {
  const name = `log-anomaly-${endpointNames.size + 1}`;
  const p = new ScoringPipeline(testConfig({ retryBaseMs: 1, retryMaxMs: 5, ...overrides }), {
    scorer: scorerFor(endpoint.url, 10_000, name),
    writeOut: (text) => out.push(...text.trimEnd().split('\n')),
    stdoutBacklog: () => 0,
    log: () => {},
    random: () => 0.5,
  });
  pipelines.push(p);
  endpointNames.set(p, name);
  return p;
}

/** The invocations `p` made. */
const callsOf = (p: ScoringPipeline): number[] => endpoint.callsTo(endpointNames.get(p)!);

before(async () => {
  endpoint = await startSwitchableEndpoint();
});
after(async () => {
  await endpoint.close();
});
beforeEach(() => {
  endpoint.mode = 'up';
  endpoint.poison = undefined;
  out = [];
});
afterEach(async () => {
  for (const p of pipelines) await p.stop(0);
  pipelines = [];
});

describe('ScoringPipeline batching', () => {
  it('cuts batches by size as soon as they are full', async () => {
    const p = pipeline({ batchMaxRecords: 4, batchMaxAgeMs: 60_000, scoringConcurrency: 1 });
    p.ingest(body(routine(10)));
    await eventually(() => p.metrics.scored.get() === 8, 5000, 'two full batches');
    assert.deepEqual(callsOf(p), [4, 4]);
    assert.equal(p.queueDepth, 2, 'the partial batch waits for its age');
  });

  it('sends a partial batch once its oldest record reaches the age bound', async () => {
    const p = pipeline({ batchMaxRecords: 100, batchMaxAgeMs: 150 });
    const started = Date.now();
    p.ingest(body(routine(3)));
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(callsOf(p), [], 'not before the age bound');
    await eventually(() => p.metrics.scored.get() === 3, 5000, 'the aged batch');
    assert.deepEqual(callsOf(p), [3]);
    assert.ok(Date.now() - started >= 150);
  });

  it('cuts batches by bytes', async () => {
    const p = pipeline({ batchMaxRecords: 100, batchMaxBytes: 1024, batchMaxAgeMs: 60_000 });
    // 160 bytes of overhead + 300 characters per record: two fit in 1024, the third makes a batch due.
    p.ingest(body(Array.from({ length: 5 }, (_, i) => `INFO ${i} ${'x'.repeat(293)}`)));
    await eventually(() => p.metrics.scored.get() === 4, 5000, 'byte-bounded batches');
    assert.deepEqual(callsOf(p), [2, 2]);
  });
});

describe('ScoringPipeline outputs', () => {
  it('publishes one contract record per anomalous line, EMF metrics and the series', async () => {
    const p = pipeline({ batchMaxRecords: 50, batchMaxAgeMs: 10 });
    const lines = [
      ...routine(40),
      '2024-06-10T06:13:20.456Z FATAL kernel panic: unable to mount root fs on /dev/sda1',
    ];
    p.ingest(body(lines));
    await p.whenIdle();
    assert.equal(p.metrics.scored.get(), 41);
    const anomalous = p.metrics.anomalous.get();
    assert.ok(anomalous >= 1, 'the fatal line is anomalous');
    const records = out.map((l) => JSON.parse(l)).filter((r) => !('_aws' in r));
    assert.equal(records.length, anomalous);
    const fatal = records.find((r) => r.line.includes('kernel panic'));
    assert.deepEqual(AnomalyRecordSchema.strict().parse(fatal), fatal);
    assert.equal(fatal.service, 'backend');
    assert.equal(fatal.task, TASK);
    assert.equal(fatal.container, 'backend');
    assert.equal(fatal.timestamp, '2024-06-10T06:13:20.456Z', "the line's own timestamp");
    assert.equal(typeof fatal.template, 'string');
    assert.deepEqual(p.history.newest(1)[0], records.at(-1));

    p.flushEmf();
    const emf = JSON.parse(out.at(-1)!);
    assert.equal(emf.LinesScored, 41);
    assert.equal(emf.AnomalousLines, anomalous);
    assert.equal(emf.Service, 'backend');
    const [point] = p.series.points(Date.now(), 60, 1);
    assert.equal(point!.scored, 41);
    assert.equal(point!.anomalous, anomalous);
  });

  it('writes the first anomalies within the per-second budget and keeps the last in the history, ids in order', async () => {
    // Every line anomalous; a batch of 10 against a budget of 2 records and a history of 3.
    const p = pipeline({
      batchMaxRecords: 10,
      batchMaxAgeMs: 10,
      anomalyThreshold: 0,
      anomalyRecordsPerSecond: 2,
      anomalyHistory: 3,
    });
    p.ingest(body(routine(10)));
    await p.whenIdle();
    assert.equal(p.metrics.anomalous.get(), 10);
    const written = out.map((l) => JSON.parse(l)).filter((r) => !('_aws' in r));
    const seq = (r: { id: string }) => r.id.split('-').at(-1);
    assert.deepEqual(
      written.map((r) => [r.line, seq(r)]),
      [
        [routine(10)[0], '0'],
        [routine(10)[1], '1'],
      ],
    );
    assert.equal(p.metrics.recordsSuppressed.get(), 8);
    assert.deepEqual(
      p.history.newest(10).map((r) => [r.line, seq(r)]),
      [
        [routine(10)[9], '9'],
        [routine(10)[8], '8'],
        [routine(10)[7], '7'],
      ],
    );
  });

  it("flags at the service's declared budget, never finer than the model's training supports", async () => {
    // A model answering fixed scores, itself at a 5 % budget (score 0.3025): 0.45 and 0.42 are within
    // a 1 % budget (score 0.4); its 50 training items support nothing finer than 1/51 (score 0.3626).
    const scores = [0.45, 0.42, 0.35, 0.1];
    const answer = {
      predictions: scores.map((score) => ({ score, anomaly: score >= 0.3025 })),
      model: { name: 'm', version: '1', threshold: 0.3025, budget: 0.05, minBudget: 1 / 51 },
    };
    const flaggedAt = async (overrides: Parameters<typeof testConfig>[0]) => {
      const before = out.length;
      const p = new ScoringPipeline(testConfig({ batchMaxRecords: 4, batchMaxAgeMs: 1, ...overrides }), {
        scorer: { score: async () => answer },
        writeOut: (text) => out.push(...text.trimEnd().split('\n')),
        stdoutBacklog: () => 0,
        log: () => {},
      });
      pipelines.push(p);
      p.ingest(body(scores.map((s) => `WARN line scored ${s}`)));
      await p.whenIdle();
      return out.slice(before).map((l) => JSON.parse(l).score);
    };
    assert.deepEqual(await flaggedAt({ anomalyBudget: 0.01 }), [0.45, 0.42]);
    assert.deepEqual(await flaggedAt({ anomalyBudget: 1e-6 }), [0.45, 0.42]);
    assert.deepEqual(await flaggedAt({ anomalyBudget: 0.05 }), [0.45, 0.42, 0.35]);
    // A declared score threshold overrides the budget.
    assert.deepEqual(await flaggedAt({ anomalyBudget: 0.05, anomalyThreshold: 0.44 }), [0.45]);
  });

  it('a record the model rejects is isolated by splitting the batch; its companions are scored', async () => {
    const p = pipeline({ batchMaxRecords: 8, batchMaxAgeMs: 10 });
    endpoint.poison = 'POISON';
    const lines = routine(8);
    lines[5] = 'INFO POISON line';
    p.ingest(body(lines));
    await p.whenIdle();
    assert.equal(p.metrics.scored.get(), 7);
    assert.equal(p.metrics.dropped.get('rejected_by_model'), 1);
    assert.equal(p.metrics.endpointErrors.get('rejected_input'), 4, '8 → 4 → 2 → 1');
    assert.equal(p.breaker.state, 'closed', 'a model that answers is not a down endpoint');
  });
});

describe('ScoringPipeline resilience', () => {
  it('sheds records when the queue overflows while the endpoint is down, and counts them', async () => {
    endpoint.mode = 'down';
    const p = pipeline({
      queueMaxRecords: 20,
      batchMaxRecords: 5,
      batchMaxAgeMs: 1,
      retryMaxAttempts: 1,
      breakerFailureThreshold: 1,
      breakerOpenMs: 60_000,
    });
    p.ingest(body(routine(5)));
    await eventually(() => p.breaker.state === 'open', 5000, 'the breaker to open');
    p.ingest(body(routine(50, 100)));
    assert.equal(p.queueDepth, 20);
    // 5 requeued after the failed call + 50 new = 55 offered to a queue of 20.
    assert.equal(p.metrics.dropped.get('queue_full'), 35);
    assert.equal(p.metrics.received.get(), 55);
    assert.equal(callsOf(p).length, 1, 'no calls while the breaker is open');
  });

  it('opens the breaker while the endpoint fails and closes it on recovery, then scores the backlog', async () => {
    endpoint.mode = 'down';
    const p = pipeline({
      batchMaxRecords: 10,
      batchMaxAgeMs: 1,
      retryMaxAttempts: 2,
      breakerFailureThreshold: 2,
      breakerOpenMs: 200,
    });
    p.ingest(body(routine(10)));
    await eventually(() => p.breaker.state === 'open', 5000, 'the breaker to open');
    const callsWhenOpened = callsOf(p).length;
    assert.equal(callsWhenOpened, 2);
    assert.equal(p.metrics.breakerOpened.get(), 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(callsOf(p).length, callsWhenOpened, 'no call while open');
    endpoint.mode = 'up';
    p.ingest(body(routine(10, 50)));
    await eventually(() => p.metrics.scored.get() === 20, 5000, 'the backlog to be scored');
    assert.equal(p.breaker.state, 'closed');
    assert.equal(p.metrics.endpointErrors.get('unavailable'), 2);
    assert.equal(p.metrics.dropped.get(), 0);
  });

  it('drops a batch that failed every retry in two rounds as retries_exhausted, and counts it', async () => {
    endpoint.mode = 'down';
    const p = pipeline({
      batchMaxRecords: 3,
      batchMaxAgeMs: 1,
      retryMaxAttempts: 2,
      breakerFailureThreshold: 100,
      scoringConcurrency: 1,
    });
    p.ingest(body(routine(3)));
    await eventually(() => p.metrics.dropped.get('retries_exhausted') === 3, 5000, 'the drop');
    assert.equal(callsOf(p).length, 4, 'two rounds of two attempts');
    assert.equal(p.queueDepth, 0);
  });

  it('on stop, flushes what waits within the grace period and counts what it cannot as shutdown', async () => {
    const p = pipeline({ batchMaxRecords: 100, batchMaxAgeMs: 60_000 });
    p.ingest(body(routine(30)));
    await p.stop(2000);
    assert.equal(p.metrics.scored.get(), 30, 'flushed despite the age bound');
    assert.equal(JSON.parse(out.at(-1)!).LinesScored, 30, 'a last EMF line');

    endpoint.mode = 'down';
    const q = pipeline({ batchMaxRecords: 100, batchMaxAgeMs: 60_000, breakerFailureThreshold: 1 });
    q.ingest(body(routine(7)));
    await q.stop(100);
    assert.equal(q.metrics.dropped.get('shutdown'), 7);
    q.ingest(body(routine(2)));
    assert.equal(q.metrics.dropped.get('shutdown'), 9, 'records after stop are counted, not queued');
  });
});

describe('ScoringPipeline counts for the deployment gate (issue 24)', () => {
  const request = (path: string, status: number) =>
    JSON.stringify({ level: status >= 500 ? 'error' : 'info', msg: 'request', method: 'GET', path, status });

  it('counts lines and requests per request class, cumulatively and in each EMF line', async () => {
    const p = pipeline({ batchMaxRecords: 50, batchMaxAgeMs: 10 });
    p.ingest(
      body([
        ...Array.from({ length: 20 }, () => request('/healthz', 200)),
        request('/api/services', 500),
        request('/api/services', 200),
        'Error: read ECONNRESET while querying orders-db',
      ]),
    );
    await p.whenIdle();
    p.flushEmf();
    const emf = JSON.parse(out.at(-1)!);
    const snapshot = p.counts.snapshot();

    assert.equal(snapshot.received, 23);
    assert.equal(snapshot.scored, 23);
    assert.deepEqual(
      Object.fromEntries(Object.entries(snapshot.classes).map(([name, c]) => [name, [c[0], c[2], c[3]]])),
      { 'GET /healthz': [20, 20, 0], 'GET /api/services': [2, 2, 1], '(other lines)': [1, 0, 0] },
    );
    assert.equal(snapshot.anomalous, emf.AnomalousLines);
    assert.equal(emf.LinesReceived, 23);
    assert.equal(emf.ScorerFailures, 0);
    assert.deepEqual(emf.RequestClasses, snapshot.classes);
  });

  it('while the endpoint is down, the EMF line still says the lines arrived, with the failed calls', async () => {
    endpoint.mode = 'down';
    const p = pipeline({
      batchMaxRecords: 5,
      batchMaxAgeMs: 1,
      retryMaxAttempts: 1,
      breakerFailureThreshold: 1,
      breakerOpenMs: 60_000,
    });
    p.ingest(body(Array.from({ length: 12 }, () => request('/', 200))));
    await eventually(() => p.breaker.state === 'open', 5000, 'the breaker to open');
    p.flushEmf();
    const emf = JSON.parse(out.at(-1)!);

    assert.equal(emf.LinesScored, 0);
    assert.equal(emf.LinesReceived, 12);
    assert.ok(emf.ScorerFailures >= 1);
    assert.equal(emf.ScorerFailures, p.metrics.endpointErrors.get('unavailable'));
    assert.deepEqual(emf.RequestClasses, { 'GET /': [0, 0, 12, 0] });
  });
});
