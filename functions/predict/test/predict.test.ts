import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { PREDICTION_LIMITS } from '../../../contracts/prediction.ts';
import { ScoringClient } from '../../../model/client/scoring-client.ts';
import { loadEvent } from '../../shared/fixtures.ts';
import { handlePredictEvent } from '../core.ts';

const runtimeMock = mockClient(SageMakerRuntimeClient);
afterEach(() => runtimeMock.reset());

const MODEL = { name: 'log-anomaly', version: '2025-11-28', threshold: 0.62 };
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

function subject() {
  const logged: Array<{ message: string; detail: Record<string, unknown> }> = [];
  const scoring = new ScoringClient({
    endpointName: 'acme-log-anomaly',
    runtime: new SageMakerRuntimeClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    }),
    timeoutMs: 200,
  });
  return {
    logged,
    invoke: (event: unknown) =>
      handlePredictEvent(event, { scoring, log: (message, detail) => logged.push({ message, detail }) }),
  };
}

function sentBodies(): unknown[] {
  return runtimeMock
    .commandCalls(InvokeEndpointCommand)
    .map((call) => JSON.parse(new TextDecoder().decode(call.args[0].input.Body as Uint8Array)));
}

describe('predict: API Gateway proxy → InvokeEndpoint', () => {
  it('scores a batch of vectors with exactly one InvokeEndpoint call', async () => {
    // Prepare
    const predictions = [
      { score: 0.1, anomaly: false },
      { score: 0.9, anomaly: true },
    ];
    runtimeMock.on(InvokeEndpointCommand).resolves({ Body: encode({ predictions, model: MODEL }) as never });
    const { invoke } = subject();
    // Act
    const result = await invoke(loadEvent('predict', 'vectors.json'));
    // Assess
    assert.equal(result.statusCode, 200);
    assert.equal(result.headers?.['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(result.body), { predictions, model: MODEL });
    const calls = runtimeMock.commandCalls(InvokeEndpointCommand);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.args[0].input.EndpointName, 'acme-log-anomaly');
    assert.equal(calls[0]!.args[0].input.ContentType, 'application/json');
    assert.equal(calls[0]!.args[0].input.Accept, 'application/json');
    assert.deepEqual(sentBodies(), [
      {
        data: [
          [1764331200, 42, 3, 17],
          [1764331201, 1800, 0, 17],
        ],
      },
    ]);
  });

  it('forwards raw log events unchanged (the model featurises them server-side)', async () => {
    const predictions = [
      { score: 0.05, anomaly: false, template: 'Started Session <*> of user <*>' },
      { score: 0.97, anomaly: true, reasons: ['severity:ERROR', 'rare-template'] },
    ];
    runtimeMock.on(InvokeEndpointCommand).resolves({ Body: encode({ predictions, model: MODEL }) as never });
    const event = loadEvent<{ body: string }>('predict', 'logs.json');
    const result = await subject().invoke(event);
    assert.equal(result.statusCode, 200);
    assert.deepEqual(sentBodies(), [JSON.parse(event.body)]);
  });

  it('decodes a base64-encoded body (binary media types configured on the API)', async () => {
    runtimeMock
      .on(InvokeEndpointCommand)
      .resolves({ Body: encode({ predictions: [{ score: 0.2, anomaly: false }], model: MODEL }) as never });
    const result = await subject().invoke(loadEvent('predict', 'base64-vector.json'));
    assert.equal(result.statusCode, 200);
    assert.deepEqual(sentBodies(), [{ data: [1764331200, 42, 3, 17] }]);
  });

  it('answers 415 for a non-JSON content type without calling the endpoint', async () => {
    const result = await subject().invoke(loadEvent('predict', 'text-plain.json'));
    assert.equal(result.statusCode, 415);
    assert.deepEqual(JSON.parse(result.body), {
      error: {
        code: 'unsupported_media_type',
        message: "content type must be application/json; got 'text/plain'",
      },
    });
    assert.equal(runtimeMock.commandCalls(InvokeEndpointCommand).length, 0);
  });

  it('answers 400 with issues for a wrong vector length', async () => {
    const event = loadEvent<{ body: string }>('predict', 'vectors.json');
    event.body = '{"data":[1,2,3]}';
    const result = await subject().invoke(event);
    assert.equal(result.statusCode, 400);
    assert.deepEqual(JSON.parse(result.body), {
      error: {
        code: 'invalid_request',
        message: 'request does not match the schema',
        issues: [{ path: 'data', message: 'must have exactly 4 numbers' }],
      },
    });
  });

  it('answers 400 for base64 that is not base64, and for bytes that are not UTF-8', async () => {
    const event = loadEvent<{ body: string }>('predict', 'base64-vector.json');
    event.body = 'not base64!';
    const notBase64 = await subject().invoke(event);
    assert.equal(notBase64.statusCode, 400);
    assert.deepEqual(JSON.parse(notBase64.body), {
      error: { code: 'invalid_json', message: 'body is flagged base64-encoded but is not valid base64' },
    });
    event.body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64');
    const notUtf8 = await subject().invoke(event);
    assert.equal(notUtf8.statusCode, 400);
    assert.deepEqual(JSON.parse(notUtf8.body), {
      error: { code: 'invalid_json', message: 'body is not valid UTF-8' },
    });
  });

  it('answers 413 past the batch limit and for a base64 body too long to decode under the byte limit', async () => {
    const event = loadEvent<{ body: string; isBase64Encoded: boolean }>('predict', 'vectors.json');
    event.body = JSON.stringify({
      data: Array.from({ length: PREDICTION_LIMITS.maxBatch + 1 }, () => [1, 2, 3, 4]),
    });
    const batch = await subject().invoke(event);
    assert.equal(batch.statusCode, 413);
    assert.equal(JSON.parse(batch.body).error.code, 'payload_too_large');
    assert.equal(
      JSON.parse(batch.body).error.message,
      `data holds ${PREDICTION_LIMITS.maxBatch + 1} items; the limit is ${PREDICTION_LIMITS.maxBatch} per request`,
    );
    event.isBase64Encoded = true;
    event.body = 'A'.repeat(Math.ceil(PREDICTION_LIMITS.maxBodyBytes / 3) * 4 + 4);
    const big = await subject().invoke(event);
    assert.equal(big.statusCode, 413);
    assert.equal(runtimeMock.commandCalls(InvokeEndpointCommand).length, 0);
  });

  it('maps a model error to 502 and a timeout to 504, logging the cause and hiding it from the caller', async () => {
    const modelError = Object.assign(new Error('Received client error (400) from primary: secret detail'), {
      name: 'ModelError',
    });
    runtimeMock.on(InvokeEndpointCommand).rejects(modelError);
    const s = subject();
    const failed = await s.invoke(loadEvent('predict', 'vectors.json'));
    assert.equal(failed.statusCode, 502);
    assert.deepEqual(JSON.parse(failed.body), {
      error: { code: 'bad_gateway', message: 'the model endpoint failed (model_error)' },
    });
    assert.deepEqual(
      s.logged.map((l) => [l.message, l.detail.failure]),
      [['model endpoint call failed', 'model_error']],
    );

    runtimeMock.reset();
    // An endpoint that never answers: the scoring client's 200 ms deadline aborts the call.
    runtimeMock.on(InvokeEndpointCommand).callsFake(
      () =>
        new Promise((_resolve, reject) => {
          setTimeout(() => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), 300);
        }),
    );
    const timedOut = await s.invoke(loadEvent('predict', 'vectors.json'));
    assert.equal(timedOut.statusCode, 504);
    assert.deepEqual(JSON.parse(timedOut.body), {
      error: { code: 'gateway_timeout', message: 'the model endpoint did not answer in time' },
    });
  });

  it('answers 502 when the endpoint returns a different number of predictions than inputs', async () => {
    runtimeMock
      .on(InvokeEndpointCommand)
      .resolves({ Body: encode({ predictions: [{ score: 0.2, anomaly: false }], model: MODEL }) as never });
    const result = await subject().invoke(loadEvent('predict', 'vectors.json'));
    assert.equal(result.statusCode, 502);
    assert.deepEqual(JSON.parse(result.body), {
      error: { code: 'bad_gateway', message: 'the model endpoint failed (bad_response)' },
    });
  });

  it('answers a non-API-Gateway event with a generic 500 and logs why', async () => {
    const s = subject();
    const result = await s.invoke({ body: '{"data":[1,2,3,4]}' });
    assert.equal(result.statusCode, 500);
    assert.deepEqual(JSON.parse(result.body), { error: { code: 'internal', message: 'internal error' } });
    assert.equal(s.logged.length, 1);
    assert.match(String(s.logged[0]!.detail.error), /not an API Gateway proxy event/);
  });

  it('answers 405 for a method other than POST', async () => {
    const event = loadEvent<{ httpMethod: string }>('predict', 'vectors.json');
    event.httpMethod = 'GET';
    const result = await subject().invoke(event);
    assert.equal(result.statusCode, 405);
    assert.equal(JSON.parse(result.body).error.code, 'method_not_allowed');
  });
});
