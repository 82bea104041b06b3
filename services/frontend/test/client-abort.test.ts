import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { abortMidUpload } from '../../../platform/local/replays.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { listen, type RunningServer } from '../../backend/test/support/upstream-servers.ts';
import { createFrontendApp } from '../server/app.ts';
import { loadStaticAssets } from '../server/static-assets.ts';

/**
 * The same abort one hop earlier (issue 24): a client that hangs up on the console's `/api` proxy while
 * uploading. The proxy's call to the backend is cancelled with it; that is not the backend failing
 * (502) but the client leaving: a 499 request line at info, no error.
 */

const lines: Record<string, unknown>[] = [];
const assetsDir = mkdtempSync(join(tmpdir(), 'console-assets-'));
writeFileSync(join(assetsDir, 'index.html'), '<!doctype html><title>console</title>');
let frontend: RunningServer;
let backend: RunningServer;

before(async () => {
  // A backend that reads the whole body before it answers (it never gets all of it).
  const slow = new Hono();
  slow.post('*', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
  // Its read fails when the proxy cancels the upload; that is expected here, not worth a stack on stderr.
  slow.onError(() => new Response(null, { status: 499 }));
  backend = await listen(slow);
  frontend = await listen(
    createFrontendApp({
      assets: loadStaticAssets(assetsDir),
      backendUrl: backend.url,
      backendTimeoutMs: 5000,
      log: (line) => lines.push(line),
    }) as unknown as Hono,
  );
});
after(async () => {
  await Promise.all([frontend.close(), backend.close()]);
  rmSync(assetsDir, { recursive: true, force: true });
});

describe('a client abort mid-upload at the frontend proxy', () => {
  it('is a 499 request line at info, not a 502, and no error is logged', async () => {
    for (let i = 0; i < 5; i++) await abortMidUpload(`${frontend.url}/api/predict`);
    await waitFor('five request lines', 10_000, () => lines.filter((l) => l.msg === 'request').length >= 5);

    assert.deepEqual(
      lines.filter((l) => l.msg === 'request').map((l) => [l.level, l.status]),
      Array.from({ length: 5 }, () => ['info', 499]),
    );
    assert.deepEqual(
      lines.filter((l) => l.level !== 'info'),
      [],
    );
  });
});
