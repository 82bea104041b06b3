import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeSeedFeatures, SEED_STREAM_BUCKETS, sessionIdOf } from '../index.ts';

describe('encodeSeedFeatures', () => {
  it('encodes timestamp seconds, message length, stream index and group name length', () => {
    assert.deepEqual(
      encodeSeedFeatures({ timestamp: '2024-01-01T00:00:00Z', message: 'ok', logGroup: '/ecs/web' }),
      [1704067200, 2, -1, 8],
    );
    assert.deepEqual(
      encodeSeedFeatures(
        { timestamp: 1704067200123, message: 'abc', logStream: 's' },
        { streamIndex: () => 3 },
      ),
      [1704067200, 3, 3, 0],
    );
  });

  it('maps a stream name to a stable bucket', () => {
    const [, , a] = encodeSeedFeatures({ timestamp: 0, message: '', logStream: 'web/web/abc' });
    const [, , b] = encodeSeedFeatures({ timestamp: 0, message: '', logStream: 'web/web/abc' });
    assert.equal(a, b);
    assert.ok(a! >= 0 && a! < SEED_STREAM_BUCKETS, `bucket ${a}`);
  });
});

describe('sessionIdOf', () => {
  it('finds block ids, keyed ids and UUIDs, in that order', () => {
    assert.equal(sessionIdOf('Receiving block blk_-160899 src: /10.0.0.1'), 'blk_-160899');
    assert.equal(sessionIdOf('GET /orders 200 request_id=7f3a'), '7f3a');
    assert.equal(
      sessionIdOf('job 8f14e45f-ceea-467e-a9b3-0e6b2f1f3c1d started'),
      '8f14e45f-ceea-467e-a9b3-0e6b2f1f3c1d',
    );
    assert.equal(sessionIdOf('nothing here'), undefined);
  });
});
