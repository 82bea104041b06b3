import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { ApiError } from '../../contracts/errors.ts';
import { jsonErrorHandler, jsonNotFound, readJsonBody } from '../hono.ts';

function appUnderTest(logged: unknown[]) {
  const app = new Hono();
  app.onError(jsonErrorHandler((e) => logged.push(e)));
  app.notFound(jsonNotFound());
  app.post('/echo', async (c) =>
    c.json(await readJsonBody(c, z.strictObject({ n: z.number() }), { maxBytes: 32 })),
  );
  app.get('/boom', () => {
    throw new Error('database password is hunter2');
  });
  app.get('/conflict', () => {
    throw new ApiError('conflict', 'already running');
  });
  app.post('/limited', bodyLimit({ maxSize: 4 }), (c) => c.text('ok'));
  return app;
}

describe('the shared hono error handling', () => {
  it('validates a JSON body', async () => {
    const res = await appUnderTest([]).request('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"n":1}',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { n: 1 });
  });

  it('answers schema mismatches, bad JSON, wrong media type and size with the error shape', async () => {
    const app = appUnderTest([]);
    const post = (body: string, type = 'application/json') =>
      app.request('/echo', { method: 'POST', headers: { 'content-type': type }, body });

    const mismatch = await post('{"n":"1"}');
    assert.equal(mismatch.status, 400);
    assert.deepEqual(await mismatch.json(), {
      error: {
        code: 'invalid_request',
        message: 'request does not match the schema',
        issues: [{ path: 'n', message: 'Invalid input: expected number, received string' }],
      },
    });
    assert.equal((await post('{')).status, 400);
    assert.equal((await post('{"n":1}', 'text/plain')).status, 415);
    const large = await post(JSON.stringify({ n: 1, pad: 'x'.repeat(64) }));
    assert.equal(large.status, 413);
    assert.deepEqual(await large.json(), {
      error: { code: 'payload_too_large', message: 'body is larger than the limit of 32 bytes' },
    });
  });

  it('turns unknown errors into a generic 500 and logs the original', async () => {
    const logged: unknown[] = [];
    const res = await appUnderTest(logged).request('/boom');
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.equal(text, '{"error":{"code":"internal","message":"internal error"}}');
    assert.equal(logged.length, 1);
  });

  it('maps ApiError, hono HTTPExceptions and unknown routes', async () => {
    const app = appUnderTest([]);
    const conflict = await app.request('/conflict');
    assert.equal(conflict.status, 409);
    assert.deepEqual(await conflict.json(), { error: { code: 'conflict', message: 'already running' } });
    const limited = await app.request('/limited', { method: 'POST', body: '123456789' });
    assert.equal(limited.status, 413);
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'payload_too_large');
    const missing = await app.request('/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      error: { code: 'not_found', message: 'no route for GET /nope' },
    });
  });
});
