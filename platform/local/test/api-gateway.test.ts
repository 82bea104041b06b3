import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APIGatewayProxyEventSchema } from '@aws-lambda-powertools/parser/schemas';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import {
  fromProxyResult,
  invokeOverHttp,
  type LocalApiGateway,
  startLocalApiGateway,
  toProxyEvent,
} from '../api-gateway.ts';
import { pickFreePorts } from '../ports.ts';
import { SupervisedProcess } from '../supervisor.ts';

const HANDLER = new URL('./fixtures/handler.ts', import.meta.url).pathname;
const LAMBDA_HOST = new URL('../lambda-host.ts', import.meta.url).pathname;

describe('toProxyEvent', () => {
  const event = toProxyEvent({
    method: 'POST',
    url: '/predict?verbose=1&tag=a&tag=b',
    rawHeaders: [
      'Content-Type',
      'application/json',
      'X-Api-Key',
      'k1',
      'Accept',
      'a/b',
      'accept',
      'c/d',
      'Host',
      'h:1',
    ],
    body: Buffer.from('{"data":[1,2,3,4]}'),
    sourceIp: '127.0.0.1',
    resource: '/predict',
    receivedAt: Date.UTC(2026, 10, 28, 12, 30, 44),
    requestId: 'req-1',
  });

  it('is a valid REST API proxy event for the Powertools parser', () => {
    const parsed = APIGatewayProxyEventSchema.safeParse(event);
    assert.equal(parsed.success, true, JSON.stringify(parsed.error?.issues));
  });

  it('carries the body as text, headers with repeats, query strings and the request context', () => {
    assert.equal(event.body, '{"data":[1,2,3,4]}');
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.httpMethod, 'POST');
    assert.equal(event.path, '/predict');
    assert.equal(event.resource, '/predict');
    assert.deepEqual(event.headers, {
      'Content-Type': 'application/json',
      'X-Api-Key': 'k1',
      Accept: 'c/d',
      Host: 'h:1',
    });
    assert.deepEqual(event.multiValueHeaders.Accept, ['a/b', 'c/d']);
    assert.deepEqual(event.queryStringParameters, { verbose: '1', tag: 'b' });
    assert.deepEqual(event.multiValueQueryStringParameters, { verbose: ['1'], tag: ['a', 'b'] });
    assert.equal(event.requestContext.requestTime, '28/Nov/2026:12:30:44 +0000');
    assert.equal(event.requestContext.requestTimeEpoch, Date.UTC(2026, 10, 28, 12, 30, 44));
    assert.equal(event.requestContext.identity.apiKey, 'k1');
    assert.equal(event.requestContext.identity.sourceIp, '127.0.0.1');
    assert.equal(event.requestContext.path, '/local/predict');
    assert.equal(event.requestContext.stage, 'local');
    assert.equal(event.requestContext.requestId, 'req-1');
  });

  it('base64-encodes a binary body and gives null for no body or no query', () => {
    const binary = toProxyEvent({
      method: 'POST',
      url: '/predict',
      rawHeaders: ['Content-Type', 'application/octet-stream'],
      body: Buffer.from([0xff, 0x00]),
      sourceIp: '127.0.0.1',
      resource: '/predict',
    });
    assert.deepEqual([binary.body, binary.isBase64Encoded], ['/wA=', true]);
    const empty = toProxyEvent({
      method: 'GET',
      url: '/predict',
      rawHeaders: [],
      body: Buffer.alloc(0),
      sourceIp: '::1',
      resource: '/predict',
    });
    assert.deepEqual([empty.body, empty.isBase64Encoded, empty.queryStringParameters], [null, false, null]);
  });
});

describe('fromProxyResult', () => {
  it('turns a proxy result into an HTTP response', () => {
    const r = fromProxyResult({
      statusCode: 400,
      headers: { 'Content-Type': 'application/json', 'X-N': 3 },
      body: '{"a":1}',
    });
    assert.equal(r.status, 400);
    assert.deepEqual(r.headers, { 'content-type': 'application/json', 'x-n': '3', 'content-length': '7' });
    assert.equal(r.body.toString(), '{"a":1}');
    assert.equal(
      fromProxyResult({ statusCode: 200, body: 'aGk=', isBase64Encoded: true }).body.toString(),
      'hi',
    );
  });

  it('answers 502 in the error shape for a malformed result', () => {
    for (const bad of [
      null,
      'ok',
      { body: 'x' },
      { statusCode: 'two hundred' },
      { statusCode: 200, body: 5 },
    ]) {
      const r = fromProxyResult(bad);
      assert.equal(r.status, 502);
      assert.deepEqual(JSON.parse(r.body.toString()), {
        error: { code: 'bad_gateway', message: 'the function returned a malformed proxy response' },
      });
    }
  });
});

describe('startLocalApiGateway with the Lambda host as a child process', () => {
  let api: LocalApiGateway;
  let keyed: LocalApiGateway;
  let host: SupervisedProcess;
  const events: APIGatewayProxyEvent[] = [];
  const errors: string[] = [];

  before(async () => {
    const [port] = await pickFreePorts(1);
    host = new SupervisedProcess({
      name: 'predict',
      command: process.execPath,
      args: ['--import', 'tsx', LAMBDA_HOST],
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        LAMBDA_HANDLER: `${HANDLER}#handler`,
        AWS_LAMBDA_FUNCTION_TIMEOUT: '2',
        MODEL_ENDPOINT_URL: 'http://127.0.0.1:9',
      },
      cwd: process.cwd(),
      stopTimeoutMs: 2000,
    });
    host.on('spawn', ({ stdout, stderr }) => {
      stdout.resume();
      stderr.resume();
    });
    host.start();
    const deadline = Date.now() + 15_000;
    while (
      !(await fetch(`http://127.0.0.1:${port}/ping`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error('lambda host did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const invoke = invokeOverHttp(() => `http://127.0.0.1:${port}`);
    api = await startLocalApiGateway({
      port: 0,
      routes: [
        {
          method: 'POST',
          resource: '/predict',
          invoke: (event, signal) => {
            events.push(event);
            return invoke(event, signal);
          },
        },
      ],
      onError: (m) => errors.push(m),
    });
    keyed = await startLocalApiGateway({
      port: 0,
      apiKey: 'k-123',
      routes: [{ method: 'POST', resource: '/predict', invoke }],
    });
  });
  after(async () => {
    await api.close();
    await keyed.close();
    await host.stop();
  });

  it('invokes the function with a proxy event and returns its response', async () => {
    const response = await fetch(`${api.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"data":[1,2,3,4]}',
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-echo'), 'yes');
    assert.deepEqual(await response.json(), {
      method: 'POST',
      path: '/predict',
      body: '{"data":[1,2,3,4]}',
      env: 'http://127.0.0.1:9',
    });
    assert.equal(APIGatewayProxyEventSchema.safeParse(events.at(-1)).success, true);
  });

  it('answers 502 when the function throws or returns a malformed result, and reports it', async () => {
    const thrown = await fetch(`${api.url}/predict`, { method: 'POST', body: 'throw' });
    assert.equal(thrown.status, 502);
    assert.deepEqual(await thrown.json(), {
      error: { code: 'bad_gateway', message: 'the integration failed' },
    });
    assert.equal(errors.at(-1), 'POST /predict: function error (Unhandled): handler failed on purpose');
    const malformed = await fetch(`${api.url}/predict`, { method: 'POST', body: 'malformed' });
    assert.equal(malformed.status, 502);
    assert.equal(errors.at(-1), 'POST /predict: malformed proxy response');
  });

  it('answers 404 for an unknown resource and 405 for another method', async () => {
    const missing = await fetch(`${api.url}/nope`, { method: 'POST' });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: { code: 'not_found', message: 'no resource /nope' } });
    const wrong = await fetch(`${api.url}/predict`);
    assert.equal(wrong.status, 405);
    assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'method_not_allowed');
  });

  it('requires the API key when one is configured', async () => {
    const denied = await fetch(`${keyed.url}/predict`, { method: 'POST', body: '{}' });
    assert.equal(denied.status, 403);
    assert.deepEqual(await denied.json(), {
      error: { code: 'forbidden', message: 'a valid x-api-key header is required' },
    });
    const allowed = await fetch(`${keyed.url}/predict`, {
      method: 'POST',
      body: '{}',
      headers: { 'x-api-key': 'k-123' },
    });
    assert.equal(allowed.status, 200);
  });

  it('answers 413 past the 10 MB payload limit without invoking the function', async () => {
    const before = events.length;
    const response = await fetch(`${api.url}/predict`, {
      method: 'POST',
      body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });
    assert.equal(response.status, 413);
    assert.equal(events.length, before);
  });
});
