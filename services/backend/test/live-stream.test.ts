import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AnomalyRecord } from '../../../contracts/anomaly.ts';
import { CONSOLE_IDENTITY_HEADER, type LiveEvent } from '../../../contracts/console-ops.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { createBackendApp } from '../src/app.ts';
import { FaultSwitch } from '../src/fault-switch.ts';
import { LiveFeed } from '../src/live-feed.ts';
import {
  LIVE_STREAM_LIMITS,
  type LiveSource,
  type LiveStreamLimits,
  LiveStreams,
} from '../src/live-stream.ts';
import { LocalAnomalySource } from '../src/local-anomaly-source.ts';
import { LocalOperationsSource } from '../src/local-operations-source.ts';

/** A feed whose events the test emits by hand. */
function handFeed(snapshot: LiveEvent[] = []) {
  const listeners = new Set<(event: LiveEvent) => void>();
  const feed: LiveSource & { emit(event: LiveEvent): void; readonly listeners: number } = {
    snapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      for (const event of snapshot) listener(event);
      return () => listeners.delete(listener);
    },
    emit(event) {
      for (const listener of listeners) listener(event);
    },
    get listeners() {
      return listeners.size;
    },
  };
  return feed;
}

const limits = (overrides: Partial<LiveStreamLimits> = {}): LiveStreamLimits => ({
  ...LIVE_STREAM_LIMITS,
  heartbeatMs: 60_000,
  ...overrides,
});

function record(i: number, line = `ERROR request ${i} failed`): AnomalyRecord {
  return {
    id: `r-${i}`,
    service: 'backend',
    task: 'task-1',
    timestamp: '2026-12-01T22:00:00.000Z',
    score: 0.9,
    line,
  } as AnomalyRecord;
}

const anomalies = (records: AnomalyRecord[]): LiveEvent => ({
  type: 'anomalies',
  data: { records, unavailable: [] },
});

const decoder = new TextDecoder();

/** Reads chunks until `until` holds (or the stream ends); keeps the chunk objects. */
async function readChunks(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  until: (text: string) => boolean,
): Promise<{ chunks: Uint8Array[]; text: string; done: boolean }> {
  const chunks: Uint8Array[] = [];
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { chunks, text, done: true };
    chunks.push(value);
    text += decoder.decode(value);
    if (until(text)) return { chunks, text, done: false };
  }
}

/** The next turn of the event loop after the streams were handed their frames. */
const settle = () => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

describe('LiveStreams', () => {
  test('an event is serialised once: every stream gets the same bytes object', async () => {
    const feed = handFeed();
    const streams = new LiveStreams(feed, limits());
    const a = streams.open('alice').getReader();
    const b = streams.open('bob').getReader();
    await readChunks(a, (t) => t.includes('event: ready'));
    await readChunks(b, (t) => t.includes('event: ready'));
    feed.emit({ type: 'alarms', data: { source: 'local', alarms: [] } });
    const [fromA, fromB] = await Promise.all([
      readChunks(a, (t) => t.includes('event: alarms')),
      readChunks(b, (t) => t.includes('event: alarms')),
    ]);
    assert.equal(fromA.chunks.at(-1), fromB.chunks.at(-1), 'one Uint8Array shared by both streams');
    assert.match(fromA.text, /^id: \d+\nevent: alarms\ndata: \{"source":"local","alarms":\[\]\}\n\n$/);
    await a.cancel();
    await b.cancel();
    assert.equal(streams.size, 0);
    assert.equal(feed.listeners, 0, 'the feed is left once the last stream goes');
  });

  test('a reader that stops reading is dropped past its queue bound, told, and ended; the others carry on', async () => {
    const feed = handFeed();
    const streams = new LiveStreams(feed, limits({ maxQueuedBytes: 4096 }));
    const stalled = streams.open('stalled').getReader();
    const reading = streams.open('reading').getReader();
    await readChunks(stalled, (t) => t.includes('event: ready'));
    await readChunks(reading, (t) => t.includes('event: ready'));
    const line = 'x'.repeat(900);
    for (let i = 0; i < 10; i++) {
      feed.emit(anomalies([record(i, line)]));
      // The reading stream takes each batch as it comes.
      await readChunks(reading, (t) => t.includes(`"r-${i}"`));
      await settle();
    }
    assert.equal(streams.size, 1, 'the stalled stream no longer counts');
    const rest = await readChunks(stalled, () => false);
    assert.equal(rest.done, true, 'the dropped stream ends');
    assert.match(
      rest.text,
      /^event: dropped\ndata: \{"reason":"the stream fell \d+ bytes behind \(the limit is 4096\)"\}\n\n$/,
    );
    assert.doesNotMatch(rest.text, /r-\d/, 'what was queued before the drop is discarded');
    feed.emit(anomalies([record(99)]));
    assert.match((await readChunks(reading, (t) => t.includes('"r-99"'))).text, /"r-99"/);
    await reading.cancel();
  });

  test('a dropped reader that never reads again is disconnected after the grace period', async () => {
    const feed = handFeed();
    const streams = new LiveStreams(feed, limits({ maxQueuedBytes: 1024, dropGraceMs: 50 }));
    let disconnected = false;
    const reader = streams.open('stalled', { disconnect: () => (disconnected = true) }).getReader();
    await readChunks(reader, (t) => t.includes('event: ready'));
    feed.emit(anomalies([record(1, 'y'.repeat(2000))]));
    assert.equal(streams.size, 0);
    await waitFor('the dropped reader is disconnected', 10_000, () => disconnected);
  });

  test('caps: per identity (429) and per process (503), each with Retry-After; a closed stream frees its slot', async () => {
    const feed = handFeed();
    const streams = new LiveStreams(feed, limits({ maxStreams: 3, maxStreamsPerIdentity: 2 }));
    const first = streams.open('alice');
    streams.open('alice');
    assert.throws(() => streams.open('alice'), {
      status: 429,
      code: 'too_many_requests',
      message: '2 live streams are open for this identity (the limit is 2); close a console tab',
      retryAfterSeconds: 5,
    });
    streams.open('bob');
    assert.throws(() => streams.open('carol'), {
      status: 503,
      code: 'unavailable',
      message: 'this backend serves 3 live streams already; try again shortly',
    });
    await first.cancel();
    assert.doesNotThrow(() => streams.open('carol'));
    streams.close();
  });

  test('a large batch is split into frames of whole records; the snapshot keeps the newest that fit one frame', async () => {
    const records = Array.from({ length: 40 }, (_, i) => record(i, 'z'.repeat(1000)));
    const feed = handFeed([anomalies(records)]);
    const streams = new LiveStreams(feed, limits({ maxFrameBytes: 8192 }));
    const reader = streams.open('alice').getReader();
    const snapshot = await readChunks(reader, (t) => t.includes('event: anomalies'));
    const snapshotRecords = JSON.parse(/data: (.*)\n\n$/.exec(snapshot.text)![1]!).records;
    assert.deepEqual(
      snapshotRecords.map((r: AnomalyRecord) => r.id),
      records.slice(0, snapshotRecords.length).map((r) => r.id),
    );
    assert.ok(snapshot.chunks.at(-1)!.byteLength <= 8192);
    feed.emit(anomalies(records));
    const live = await readChunks(reader, (t) => (t.match(/"r-39"/g) ?? []).length === 1);
    const frames = live.text.split('\n\n').filter((f) => f.startsWith('id: '));
    const ids = frames.flatMap((f) =>
      JSON.parse(/data: (.*)$/m.exec(f)![1]!).records.map((r: AnomalyRecord) => r.id),
    );
    assert.deepEqual(
      ids,
      records.map((r) => r.id),
      'every record once, in order',
    );
    assert.ok(frames.length >= 5, `${frames.length} frames`);
    for (const chunk of live.chunks)
      assert.ok(chunk.byteLength <= 8192, `a frame of ${chunk.byteLength} bytes`);
    await reader.cancel();
  });
});

describe('GET /api/events caps over HTTP', () => {
  test('past the identity cap: 429 in the error shape with Retry-After', async () => {
    const services = [{ name: 'backend' }];
    const live = new LiveFeed({
      services,
      anomalies: new LocalAnomalySource({ services, timeoutMs: 100 }),
      operations: new LocalOperationsSource({ services, healthTimeoutMs: 100 }),
      anomalyPollMs: 60_000,
      healthIntervalMs: 60_000,
      operationsIntervalMs: 60_000,
    });
    const app = createBackendApp({
      services,
      anomalies: new LocalAnomalySource({ services, timeoutMs: 100 }),
      live,
      streamLimits: limits({ maxStreamsPerIdentity: 1 }),
      scoring: undefined,
      faults: new FaultSwitch({ enabled: false, dependencyTimeoutMs: 10, log: () => undefined }),
      healthTimeoutMs: 100,
      log: () => undefined,
    });
    const headers = { [CONSOLE_IDENTITY_HEADER]: 'user:alice' };
    const open = await app.request('/api/events', { headers });
    assert.equal(open.status, 200);
    assert.equal(open.headers.get('content-type'), 'text/event-stream');
    const refused = await app.request('/api/events', { headers });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.deepEqual(await refused.json(), {
      error: {
        code: 'too_many_requests',
        message: '1 live streams are open for this identity (the limit is 1); close a console tab',
      },
    });
    assert.equal(
      (await app.request('/api/events', { headers: { [CONSOLE_IDENTITY_HEADER]: 'user:bob' } })).status,
      200,
    );
    await open.body!.cancel();
    live.close();
  });
});
