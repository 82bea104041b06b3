import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createFrontendApp, underBasePath } from '../server/app.ts';
import { backendUrlOf, parseFrontendEnv } from '../server/config.ts';
import { loadStaticAssets } from '../server/static-assets.ts';

/** The console under an OperationsConsole's path (`/console`), as the ALB forwards it: prefix kept. */

const dir = mkdtempSync(join(tmpdir(), 'console-base-'));
mkdirSync(join(dir, 'assets'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>');
writeFileSync(join(dir, 'assets', 'index-AbC123.js'), 'console.log(1)');

describe('the console under a base path', () => {
  const app = underBasePath(
    createFrontendApp({
      assets: loadStaticAssets(dir),
      backendUrl: 'http://127.0.0.1:9',
      backendTimeoutMs: 1000,
      log: () => {},
    }),
    '/console',
  );

  it('serves the page and its assets under the path, and redirects the bare path to it', async () => {
    assert.equal((await app.request('/console/')).status, 200);
    assert.match(await (await app.request('/console/')).text(), /<title>console<\/title>/);
    assert.equal((await app.request('/console/assets/index-AbC123.js')).status, 200);
    const bare = await app.request('/console?x=1');
    assert.equal(bare.status, 308);
    assert.equal(bare.headers.get('location'), '/console/?x=1');
  });

  it('keeps the health check at the root and answers 404 outside the path', async () => {
    assert.equal((await app.request('/healthz')).status, 200);
    const outside = await app.request('/assets/index-AbC123.js');
    assert.equal(outside.status, 404);
    assert.match(
      ((await outside.json()) as { error: { message: string } }).error.message,
      /under \/console\//,
    );
  });
});

describe("the console's API address", () => {
  it('is BACKEND_URL, else the URL the platform hands for API_SERVICE, else loopback; a bad handed URL is refused', () => {
    const source = { API_SERVICE: 'console-api', CONSOLE_API_URL: 'http://127.0.0.1:4100' };
    assert.equal(backendUrlOf(parseFrontendEnv(source), source), 'http://127.0.0.1:4100');
    const both = { ...source, BACKEND_URL: 'http://127.0.0.1:4200' };
    assert.equal(backendUrlOf(parseFrontendEnv(both), both), 'http://127.0.0.1:4200');
    assert.equal(backendUrlOf(parseFrontendEnv({}), {}), 'http://127.0.0.1:8081');
    const bad = { API_SERVICE: 'console-api', CONSOLE_API_URL: 'not a url' };
    assert.throws(
      () => backendUrlOf(parseFrontendEnv(bad), bad),
      /CONSOLE_API_URL \('not a url'\) must be an http\(s\) URL/,
    );
  });
});
