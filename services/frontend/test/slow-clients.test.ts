import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PREDICTION_LIMITS } from '../../../contracts/prediction.ts';
import { type ServiceProcess, spawnService } from '../../../test/support/service-process.ts';
import { parseAnswer, postLargeBody, slowUpload } from '../../../test/support/slow-clients.ts';

/**
 * The console pair as processes, with the limits their `main.ts` gives them: slow uploads (a 5 MB body
 * declared, a byte a second) are closed by each server's own request deadline, and bodies of 6 MB and
 * 11 MB get their 413 in the error shape instead of a reset. Before, Node's 300 s default held the
 * slow uploads and the large bodies were reset.
 */

const SLOW_UPLOADS = 20;
/** Far past any configured deadline: reaching it means the server never closed the connection. */
const GIVE_UP_MS = 90_000;

const assetsDir = mkdtempSync(join(tmpdir(), 'console-assets-'));
writeFileSync(join(assetsDir, 'index.html'), '<!doctype html><title>console</title>');
let backend: ServiceProcess;
let frontend: ServiceProcess;

before(async () => {
  backend = await spawnService(fileURLToPath(new URL('../../backend/main.ts', import.meta.url)), {});
  frontend = await spawnService(fileURLToPath(new URL('../server/main.ts', import.meta.url)), {
    BACKEND_URL: backend.url,
    ASSETS_DIR: assetsDir,
  });
});
after(async () => {
  await Promise.all([frontend?.close(), backend?.close()]);
  rmSync(assetsDir, { recursive: true, force: true });
});

describe('the console servers under slow and oversized uploads', () => {
  test(`${SLOW_UPLOADS} slow uploads to each server are closed by its request deadline, with a 408`, {
    timeout: GIVE_UP_MS + 30_000,
  }, async () => {
    const upload = (url: string) =>
      slowUpload(url, {
        path: '/api/predict',
        declaredBytes: 5_000_000,
        byteEveryMs: 1000,
        giveUpMs: GIVE_UP_MS,
      });
    const results = await Promise.all([
      ...Array.from({ length: SLOW_UPLOADS }, () => upload(backend.url)),
      ...Array.from({ length: SLOW_UPLOADS }, () => upload(frontend.url)),
    ]);
    const slowest = Math.max(...results.map((r) => r.closedAfterMs));
    process.stdout.write(`# ${results.length} slow uploads: the last closed after ${slowest} ms\n`);
    for (const result of results) {
      assert.ok(Number.isFinite(result.closedAfterMs), 'a slow upload was still open when the test gave up');
      assert.deepEqual(parseAnswer(result.received), {
        status: 408,
        body: { error: { code: 'request_timeout', message: 'the request did not arrive in time' } },
      });
    }
  });

  test('6 MB and 11 MB bodies get a 413 in the error shape from both servers, never a reset', {
    timeout: 60_000,
  }, async () => {
    for (const server of [frontend, backend]) {
      for (const bytes of [6_000_000, 11_000_000]) {
        for (const chunked of [false, true]) {
          const answer = await postLargeBody(`${server.url}/api/predict`, bytes, { chunked });
          const label = `${server === frontend ? 'frontend' : 'backend'}: ${bytes} bytes ${chunked ? 'chunked' : 'declared'}`;
          assert.ok('status' in answer, `${label}: ${JSON.stringify(answer)}`);
          assert.equal(answer.status, 413, label);
          const error = (answer.body as { error: { code: string; message: string } }).error;
          assert.equal(error.code, 'payload_too_large', label);
          assert.match(
            error.message,
            new RegExp(
              `limit is ${PREDICTION_LIMITS.maxBodyBytes}|limit of ${PREDICTION_LIMITS.maxBodyBytes}`,
            ),
            label,
          );
        }
      }
    }
  });
});
