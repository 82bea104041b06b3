import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { waitFor } from '../../../test/support/wait-for.ts';
import { createSageMakerRuntimeClient, EndpointError, ScoringClient } from '../scoring-client.ts';

// A real HTTP server on loopback speaking the SageMaker runtime path the real SDK calls.
const seen: Array<{ endpoint: string; contentType: string | undefined; body: unknown }> = [];
/** Calls to the `hang` endpoint: it never answers, so each ends only when the client closes it. */
const hanging = { received: 0, closedByClient: 0 };
const app = new Hono<{ Bindings: { outgoing: ServerResponse } }>();
app.post('/endpoints/:name/invocations', async (c) => {
  const endpoint = c.req.param('name');
  const body = await c.req.json();
  seen.push({ endpoint, contentType: c.req.header('content-type'), body });
  switch (endpoint) {
    case 'hang':
      hanging.received += 1;
      await new Promise((resolve) => c.env.outgoing.once('close', resolve));
      hanging.closedByClient += 1;
      return c.body(null, 204);
    case 'slow':
      await new Promise((r) => setTimeout(r, 500));
      return c.json({ predictions: [], model: { name: 'm', version: '1', threshold: 0.5 } });
    case 'garbage':
      return c.text('not json', 200, { 'content-type': 'application/json' });
    case 'wrong-shape':
      return c.json({ predictions: [{ score: 7 }] });
    case 'broken':
      return c.json({ message: 'boom' }, 500);
    // What SageMaker answers when the model container fails (5xx) or rejects the input (4xx).
    case 'container-500':
      return c.json(
        {
          Message: 'Received server error (500) from primary',
          OriginalStatusCode: 500,
          OriginalMessage: 'boom',
        },
        424,
        { 'x-amzn-errortype': 'ModelError' },
      );
    case 'container-400':
    case 'container-413':
    case 'container-422': {
      const status = Number(endpoint.slice(-3));
      return c.json(
        { Message: `Received client error (${status}) from primary`, OriginalStatusCode: status },
        424,
        { 'x-amzn-errortype': 'ModelError' },
      );
    }
    case 'container-404':
      return c.json({ Message: 'Received client error (404) from primary', OriginalStatusCode: 404 }, 424, {
        'x-amzn-errortype': 'ModelError',
      });
    case 'model-error-bare':
      return c.json({ Message: 'model failed' }, 424, { 'x-amzn-errortype': 'ModelError' });
    case 'missing':
      return c.json({ message: 'Endpoint missing of account 000000000000 not found.' }, 400, {
        'x-amzn-errortype': 'ValidationError',
      });
    case 'throttled':
      return c.json({ message: 'Rate exceeded' }, 400, { 'x-amzn-errortype': 'ThrottlingException' });
    case 'overloaded':
      return c.json({ message: 'busy' }, 503, { 'x-amzn-errortype': 'ServiceUnavailable' });
    // The local model server (no SageMaker in front) answering for itself.
    case 'direct-400':
      return c.json({ error: { code: 'invalid_request', message: 'logs.0.message: required' } }, 400);
    case 'direct-500':
      return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
    default:
      return c.json({
        predictions: [{ score: 0.25, anomaly: false, template: 'user <*> logged in' }],
        model: { name: 'log-anomaly', version: '2026.11.28', threshold: 0.7 },
      });
  }
});

let server: ReturnType<typeof serve>;
let url = '';
before(async () => {
  server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(
  () =>
    new Promise<void>((r) => {
      server.close(() => r());
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    }),
);

const clientFor = (endpointName: string, timeoutMs = 2000, endpointUrl = url) =>
  new ScoringClient({
    endpointName,
    timeoutMs,
    runtime: createSageMakerRuntimeClient({ endpointUrl, maxAttempts: 1 }),
  });

async function failureOf(promise: Promise<unknown>): Promise<EndpointError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof EndpointError, `expected EndpointError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('ScoringClient with the real SageMaker runtime client against a local endpoint', () => {
  it('sends the request as JSON to the named endpoint and validates the answer', async () => {
    const request = { logs: [{ timestamp: 1700000000000, message: 'user 42 logged in' }] };
    const response = await clientFor('log-anomaly').score(request);
    assert.deepEqual(response, {
      predictions: [{ score: 0.25, anomaly: false, template: 'user <*> logged in' }],
      model: { name: 'log-anomaly', version: '2026.11.28', threshold: 0.7 },
    });
    assert.deepEqual(seen.at(-1), {
      endpoint: 'log-anomaly',
      contentType: 'application/json',
      body: request,
    });
  });

  it('reports a deadline as a timeout, answered as 504', async () => {
    const error = await failureOf(clientFor('slow', 100).score({ data: [1, 2, 3, 4] }));
    assert.equal(error.failure, 'timeout');
    assert.equal(error.retryable, true);
    assert.deepEqual(error.toApiError().toBody(), {
      error: { code: 'gateway_timeout', message: 'the model endpoint did not answer in time' },
    });
  });

  it('reports invalid JSON and a wrong shape as bad_response, answered as 502, not retryable', async () => {
    for (const name of ['garbage', 'wrong-shape']) {
      const error = await failureOf(clientFor(name).score({ data: [1, 2, 3, 4] }));
      assert.equal(error.failure, 'bad_response', name);
      assert.equal(error.retryable, false);
      assert.equal(error.toApiError().status, 502);
    }
  });

  it('reports an answer with another number of predictions than inputs as bad_response', async () => {
    // The default endpoint answers one prediction, whatever it was sent.
    for (const request of [
      {
        data: [
          [1, 2, 3, 4],
          [5, 6, 7, 8],
        ] as [number, number, number, number][],
      },
      { logs: [] },
      {
        logs: [
          { timestamp: 1, message: 'a' },
          { timestamp: 2, message: 'b' },
        ],
      },
    ]) {
      const error = await failureOf(clientFor('one').score(request));
      assert.equal(error.failure, 'bad_response', JSON.stringify(request));
      assert.match(error.message, /1 predictions? for \d+ inputs?/);
    }
    assert.equal((await clientFor('one').score({ data: [1, 2, 3, 4] })).predictions.length, 1);
  });

  it('reports a 5xx from the endpoint and an unreachable endpoint as retryable failures', async () => {
    const broken = await failureOf(clientFor('broken').score({ data: [1, 2, 3, 4] }));
    assert.equal(broken.retryable, true, `got ${broken.failure}`);
    const unreachable = await failureOf(
      clientFor('x', 2000, 'http://127.0.0.1:9').score({ data: [1, 2, 3, 4] }),
    );
    assert.equal(unreachable.failure, 'unavailable');
    assert.deepEqual(unreachable.toApiError().toBody(), {
      error: { code: 'bad_gateway', message: 'the model endpoint failed (unavailable)' },
    });
  });

  it('classifies SageMaker answers by meaning: container failures, a missing endpoint, throttling are failures', async () => {
    const cases: Array<[string, string]> = [
      ['container-500', 'model_error'],
      ['container-404', 'model_error'],
      ['model-error-bare', 'model_error'],
      ['direct-500', 'unavailable'],
      ['missing', 'missing_endpoint'],
      ['throttled', 'throttled'],
      ['overloaded', 'unavailable'],
    ];
    for (const [name, failure] of cases) {
      const error = await failureOf(clientFor(name).score({ data: [1, 2, 3, 4] }));
      assert.equal(error.failure, failure, name);
      assert.equal(error.rejectedInput, false, `${name} is not the caller's input`);
    }
    for (const name of ['container-500', 'model-error-bare', 'throttled', 'overloaded']) {
      assert.equal((await failureOf(clientFor(name).score({ data: [1, 2, 3, 4] }))).retryable, true, name);
    }
  });

  it('classifies only a genuine 400/413/422 from the model container as a rejected input', async () => {
    for (const name of ['container-400', 'container-413', 'container-422', 'direct-400']) {
      const error = await failureOf(clientFor(name).score({ data: [1, 2, 3, 4] }));
      assert.equal(error.failure, 'rejected_input', name);
      assert.equal(error.rejectedInput, true, name);
      assert.equal(error.retryable, false, name);
    }
  });

  // The deadline and a caller's abort (the sidecar's shutdown) must end the HTTP request itself, not only
  // the promise: a call left running holds a socket and the endpoint's work after its caller gave up.
  it('ends the HTTP request itself at the deadline', async () => {
    const before = { ...hanging };
    const error = await failureOf(clientFor('hang', 200).score({ data: [1, 2, 3, 4] }));
    assert.equal(error.failure, 'timeout');
    assert.equal(hanging.received, before.received + 1);
    await waitFor(
      'the endpoint sees the call closed',
      10_000,
      () => hanging.closedByClient > before.closedByClient,
    );
  });

  it('ends the HTTP request itself when the caller aborts', async () => {
    const before = { ...hanging };
    const controller = new AbortController();
    const pending = failureOf(clientFor('hang', 60_000).score({ data: [1, 2, 3, 4] }, controller.signal));
    await waitFor('the call reaches the endpoint', 10_000, () => hanging.received > before.received);
    controller.abort();
    assert.equal((await pending).failure, 'timeout');
    await waitFor(
      'the endpoint sees the call closed',
      10_000,
      () => hanging.closedByClient > before.closedByClient,
    );
  });

  it('resolves the SDK middleware once per client, not per call, with a signal on every call', async () => {
    const resolve = InvokeEndpointCommand.prototype.resolveMiddleware;
    let resolved = 0;
    InvokeEndpointCommand.prototype.resolveMiddleware = function (this: InvokeEndpointCommand, ...args) {
      resolved += 1;
      return resolve.apply(this, args);
    };
    try {
      const client = clientFor('log-anomaly');
      const request = { logs: [{ timestamp: 1700000000000, message: 'user 42 logged in' }] };
      for (let i = 0; i < 5; i++) await client.score(request, new AbortController().signal);
      assert.equal(resolved, 1);
    } finally {
      InvokeEndpointCommand.prototype.resolveMiddleware = resolve;
    }
  });

  it('honours a caller abort', async () => {
    const controller = new AbortController();
    const pending = clientFor('slow').score({ data: [1, 2, 3, 4] }, controller.signal);
    controller.abort();
    const error = await failureOf(pending);
    assert.equal(error.failure, 'timeout');
  });
});
