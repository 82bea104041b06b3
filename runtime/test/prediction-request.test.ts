import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ApiError, toErrorResponse } from '../../contracts/errors.ts';
import { batchSize, PREDICTION_LIMITS, vectorsOf } from '../../contracts/prediction.ts';
import { parsePredictionRequest } from '../prediction-request.ts';

const JSON_TYPE = 'application/json';

function rejection(body: string, contentType: string | null = JSON_TYPE): { status: number; body: unknown } {
  try {
    parsePredictionRequest(body, contentType);
  } catch (error) {
    assert.ok(error instanceof ApiError, `expected ApiError, got ${String(error)}`);
    return toErrorResponse(error);
  }
  assert.fail(`expected ${body.slice(0, 80)} to be rejected`);
}

describe('parsePredictionRequest accepts the three input forms', () => {
  it('a single seed vector is a batch of one', () => {
    const request = parsePredictionRequest('{"data":[1,2,3,4]}', JSON_TYPE);
    assert.ok('data' in request);
    assert.deepEqual(vectorsOf(request), [[1, 2, 3, 4]]);
    assert.equal(batchSize(request), 1);
  });

  it('a batch of vectors', () => {
    const request = parsePredictionRequest(
      '{"data":[[1,2,3,4],[5,6,7,8]]}',
      'application/json; charset=utf-8',
    );
    assert.ok('data' in request);
    assert.deepEqual(vectorsOf(request), [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
  });

  it('raw log events with numeric or ISO timestamps', () => {
    const request = parsePredictionRequest(
      JSON.stringify({
        logs: [
          { timestamp: 1700000000000, message: 'ok', logStream: 's', logGroup: 'g' },
          { timestamp: '2024-01-01T00:00:00Z', message: 'kernel panic' },
        ],
      }),
      JSON_TYPE,
    );
    assert.equal(batchSize(request), 2);
  });
});

describe('parsePredictionRequest rejects what the caller can fix, with the error shape', () => {
  it('415 for a non-JSON content type', () => {
    assert.deepEqual(rejection('{"data":[1,2,3,4]}', 'text/plain'), {
      status: 415,
      body: {
        error: {
          code: 'unsupported_media_type',
          message: "content type must be application/json; got 'text/plain'",
        },
      },
    });
    assert.equal(rejection('{}', null).status, 415);
  });

  it('400 invalid_json for a syntax error', () => {
    const { status, body } = rejection('{"data":[1,2,');
    assert.equal(status, 400);
    assert.equal((body as { error: { code: string } }).error.code, 'invalid_json');
  });

  it('400 with issues for a wrong vector length', () => {
    assert.deepEqual(rejection('{"data":[1,2,3]}'), {
      status: 400,
      body: {
        error: {
          code: 'invalid_request',
          message: 'request does not match the schema',
          issues: [{ path: 'data', message: 'must have exactly 4 numbers' }],
        },
      },
    });
  });

  it('400 for an empty batch, unknown keys and non-finite numbers', () => {
    for (const body of [
      '{"data":[]}',
      '{"logs":[]}',
      '{"data":[1,2,3,4],"extra":1}',
      '{"data":[1e999,2,3,4]}',
      '[]',
      'null',
    ]) {
      const { status, body: error } = rejection(body);
      assert.equal(status, 400, body);
      assert.equal((error as { error: { code: string } }).error.code, 'invalid_request', body);
    }
  });

  it('413 past the batch limit, naming the limit', () => {
    const logs = Array.from({ length: PREDICTION_LIMITS.maxBatch + 1 }, () => ({
      timestamp: 1,
      message: 'x',
    }));
    assert.deepEqual(rejection(JSON.stringify({ logs })), {
      status: 413,
      body: {
        error: {
          code: 'payload_too_large',
          message: `logs holds ${PREDICTION_LIMITS.maxBatch + 1} items; the limit is ${PREDICTION_LIMITS.maxBatch} per request`,
        },
      },
    });
  });

  it('413 past the byte limit', () => {
    const message = 'x'.repeat(PREDICTION_LIMITS.maxBodyBytes);
    const { status } = rejection(JSON.stringify({ logs: [{ timestamp: 1, message }] }));
    assert.equal(status, 413);
  });

  it('never throws anything but ApiError, whatever the body (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ data: v })),
          fc.jsonValue().map((v) => JSON.stringify({ logs: v })),
          fc
            .array(fc.record({ timestamp: fc.jsonValue(), message: fc.jsonValue() }))
            .map((logs) => JSON.stringify({ logs })),
        ),
        (body) => {
          try {
            parsePredictionRequest(body, JSON_TYPE);
          } catch (error) {
            assert.ok(error instanceof ApiError);
            assert.ok(error.status >= 400 && error.status < 500);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
