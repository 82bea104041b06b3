import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import {
  parseAnswer,
  postLargeBody,
  rawRequest,
  silentConnection,
  slowUpload,
} from '../../test/support/slow-clients.ts';
import { bodyLimit } from '../body-limit.ts';
import { jsonErrorHandler, jsonNotFound, readJsonText } from '../hono.ts';
import { type HttpServerLimits, httpServerLimits, serveHttp } from '../http-server.ts';

/**
 * The mechanism of the shared server limits, with limits small enough for a test: a slow upload is cut
 * at the request deadline with a 408 in the error shape, a silent connection at the header deadline,
 * oversized headers are a 431, and an oversized body is a 413 the client can read (no reset).
 */

const MAX_BODY = 64 * 1024;
const limits: HttpServerLimits = {
  ...httpServerLimits({ maxBodyBytes: MAX_BODY }),
  headersTimeoutMs: 500,
  requestTimeoutMs: 1500,
  keepAliveTimeoutMs: 300,
  maxHeaderBytes: 4096,
};

let url = '';
/** Errors the app logged as its own (500s): a client's slow or cut-off body must never be one. */
const unexpected: unknown[] = [];
let close: () => Promise<void>;
before(async () => {
  const app = new Hono();
  app.onError(jsonErrorHandler((error) => unexpected.push(error)));
  app.notFound(jsonNotFound());
  app.post('/upload', bodyLimit({ maxBytes: MAX_BODY }), async (c) =>
    c.json({ bytes: (await readJsonText(c, MAX_BODY)).length }),
  );
  await new Promise<void>((resolve) => {
    const listener = getRequestListener(app.fetch, { autoCleanupIncoming: false });
    const server = serveHttp({ listener, port: 0, hostname: '127.0.0.1', limits }, (info: AddressInfo) => {
      url = `http://127.0.0.1:${info.port}`;
      resolve();
    });
    close = () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
  });
});
after(() => close());

describe('serveHttp: the shared server limits', () => {
  test('a slow upload is closed at the request deadline with 408 in the error shape', async () => {
    const result = await slowUpload(url, {
      path: '/upload',
      declaredBytes: 60_000,
      byteEveryMs: 100,
      giveUpMs: 20_000,
    });
    assert.ok(result.closedAfterMs < 20_000, 'the server never closed the connection');
    assert.ok(result.closedAfterMs >= limits.requestTimeoutMs, `closed after ${result.closedAfterMs} ms`);
    assert.deepEqual(parseAnswer(result.received), {
      status: 408,
      body: { error: { code: 'request_timeout', message: 'the request did not arrive in time' } },
    });
  });

  test('a connection that sends nothing is closed at the header deadline', async () => {
    const result = await silentConnection(url, 20_000);
    assert.ok(result.closedAfterMs < 20_000, 'the server never closed the connection');
    assert.equal(parseAnswer(result.received)?.status, 408);
  });

  test('oversized headers are a 431 in the error shape', async () => {
    const result = await rawRequest(
      url,
      `GET /upload HTTP/1.1\r\nhost: localhost\r\nx-big: ${'a'.repeat(8000)}\r\n\r\n`,
      20_000,
    );
    assert.deepEqual(parseAnswer(result.received), {
      status: 431,
      body: { error: { code: 'header_too_large', message: 'the request headers are too large' } },
    });
  });

  test('an oversized body gets its 413 JSON, declared or chunked, twice the limit or ten times: no reset', async () => {
    for (const bytes of [2 * MAX_BODY, 10 * MAX_BODY]) {
      for (const chunked of [false, true]) {
        const answer = await postLargeBody(`${url}/upload`, bytes, { chunked });
        assert.ok(
          'status' in answer,
          `${bytes} bytes, ${chunked ? 'chunked' : 'declared'}: ${JSON.stringify(answer)}`,
        );
        assert.equal(answer.status, 413);
        assert.equal((answer.body as { error: { code: string } }).error.code, 'payload_too_large');
      }
    }
  });

  test('a body within the limit is read; nothing above was logged as an error of the server', async () => {
    assert.deepEqual(await postLargeBody(`${url}/upload`, 1000), { status: 200, body: { bytes: 1000 } });
    assert.deepEqual(unexpected, []);
  });
});
