import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PREDICTION_LIMITS } from '../../../contracts/prediction.ts';
import { parseAnswer, postLargeBody, slowUpload } from '../../../test/support/slow-clients.ts';
import { MODEL_SERVER_LIMITS, type RunningInferenceServer, startInferenceServer } from '../server.ts';

/**
 * The model server with its own limits (runtime/http-server.ts): a slow upload is cut at its request
 * deadline with a 408, and 6 MB and 11 MB bodies get their 413 instead of a reset, on both paths
 * (the node:http invocation path and the hono app).
 */

let server: RunningInferenceServer;
before(async () => {
  server = await startInferenceServer({ port: 0, log: () => {} });
});
after(() => server.close());

describe('model server limits', () => {
  it('6 MB and 11 MB bodies are a 413 in the error shape, declared or chunked', async () => {
    for (const path of ['/invocations', '/endpoints/log-anomaly/invocations']) {
      for (const bytes of [6_000_000, 11_000_000]) {
        for (const chunked of [false, true]) {
          const answer = await postLargeBody(`${server.url}${path}`, bytes, { chunked });
          assert.ok(
            !('error' in answer),
            `${path} ${bytes} ${chunked ? 'chunked' : 'declared'}: ${JSON.stringify(answer)}`,
          );
          assert.equal(answer.status, 413);
          assert.equal((answer.body as { error: { code: string } }).error.code, 'payload_too_large');
        }
      }
    }
  });

  it('a slow upload is closed by the request deadline with a 408', { timeout: 90_000 }, async () => {
    assert.ok(MODEL_SERVER_LIMITS.requestTimeoutMs < 60_000);
    const result = await slowUpload(server.url, {
      path: '/invocations',
      declaredBytes: PREDICTION_LIMITS.maxBodyBytes,
      byteEveryMs: 1000,
      giveUpMs: 60_000,
    });
    assert.ok(Number.isFinite(result.closedAfterMs), 'the server never closed the slow upload');
    assert.equal(parseAnswer(result.received)?.status, 408);
  });
});
