import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { ANSWER_LIMITS, PREDICTION_LIMITS, type PredictionRequest } from '../../../contracts/prediction.ts';
import { ScoringClient } from '../../../model/client/scoring-client.ts';
import { loadEvent } from '../../shared/fixtures.ts';
import { answerBytesBound, assertAnswerFits } from '../answer-size.ts';
import { handlePredictEvent } from '../core.ts';

const runtimeMock = mockClient(SageMakerRuntimeClient);
afterEach(() => runtimeMock.reset());

const MODEL = { name: 'log-anomaly', version: '2025-11-28', threshold: 0.62 };

/** A stand-in model that answers like the real one at its worst: every token masked, every reason set. */
function worstCaseModel(): void {
  runtimeMock.on(InvokeEndpointCommand).callsFake((input: { Body: Uint8Array }) => {
    const request = JSON.parse(new TextDecoder().decode(input.Body)) as PredictionRequest;
    const items = 'logs' in request ? request.logs.map((l) => l.message) : [''];
    const predictions = items.map((message) => ({
      score: 0.1234567890123457,
      anomaly: true,
      raw: Number('-1.2345678901234567e-100'),
      // Masking turns each character of a short token into `<*>`: three times the line.
      template: [...message].map((c) => (c === ' ' ? ' ' : '<*>')).join(''),
      reasons: Array.from({ length: 12 }, (_, i) => `reason-${i}`.padEnd(64, 'x')),
    }));
    return { Body: new TextEncoder().encode(JSON.stringify({ predictions, model: MODEL })) };
  });
}

function invoke(body: string) {
  const event = loadEvent<{ body: string }>('predict', 'logs.json');
  event.body = body;
  const scoring = new ScoringClient({
    endpointName: 'acme-log-anomaly',
    runtime: new SageMakerRuntimeClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    }),
    timeoutMs: 5000,
  });
  return handlePredictEvent(event, { scoring, log: () => {} });
}

describe('predict: the answer stays under the 6 MB response limit', () => {
  it('answers 413 in the error shape, before the model runs, for 5 MB of short lines (a 10+ MB answer)', async () => {
    // Prepare: 5000 lines of one-character tokens, just under the 5 MB body limit.
    worstCaseModel();
    const line = '0 '.repeat(500).trim();
    const body = JSON.stringify({
      logs: Array.from({ length: 5000 }, (_, i) => ({ timestamp: i, message: line })),
    });
    assert.ok(Buffer.byteLength(body) > 4.9e6 && Buffer.byteLength(body) <= PREDICTION_LIMITS.maxBodyBytes);
    // Act
    const result = await invoke(body);
    // Assess
    assert.equal(result.statusCode, 413);
    const error = JSON.parse(result.body).error;
    assert.equal(error.code, 'payload_too_large');
    assert.match(
      error.message,
      /^the answer to this request could reach \d+ bytes .* the limit is 6000000\. Split the request into smaller batches\.$/,
    );
    assert.equal(runtimeMock.commandCalls(InvokeEndpointCommand).length, 0);
  });

  it('answers a large batch of ordinary lines, templates cut and reasons bounded, under the limit', async () => {
    worstCaseModel();
    const message = `user ${'a'.repeat(300)} logged in from 10.0.0.1`;
    const body = JSON.stringify({
      logs: Array.from({ length: 2000 }, (_, i) => ({ timestamp: i, message })),
    });
    const result = await invoke(body);
    assert.equal(result.statusCode, 200);
    const answer = JSON.parse(result.body);
    assert.equal(answer.predictions.length, 2000);
    assert.equal(answer.predictions[0].template.length, ANSWER_LIMITS.maxTemplateChars);
    assert.equal(answer.predictions[0].reasons.length, ANSWER_LIMITS.maxReasons);
    assert.ok(Buffer.byteLength(JSON.stringify(result)) <= ANSWER_LIMITS.maxAnswerBytes);
  });

  it('accepts the largest batch of vectors', () => {
    const data = Array.from({ length: PREDICTION_LIMITS.maxBatch }, () => [1, 2, 3, 4]);
    assert.doesNotThrow(() => assertAnswerFits({ data }));
  });

  it('bounds the real proxy result of every request it accepts (property, worst-case model)', async () => {
    const unit = fc.oneof(
      fc.constantFrom(' ', '0', 'a', '"', '\\', '\n', '\u0001', 'é', '€', '\ud83d\ude00', '\ud800'),
      fc.string({ maxLength: 3 }),
    );
    const message = fc.array(unit, { maxLength: 80 }).map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 40 }), async (messages) => {
        worstCaseModel();
        const request = { logs: messages.map((m, i) => ({ timestamp: i, message: m })) };
        const bound = answerBytesBound(request);
        const result = await invoke(JSON.stringify(request));
        runtimeMock.reset();
        assert.equal(result.statusCode, 200, result.body);
        assert.ok(Buffer.byteLength(JSON.stringify(result)) <= bound.proxy, 'proxy result within its bound');
        // The model's own (untruncated) answer is within its bound too.
        const modelAnswer = messages.map((m) => [...m].map((c) => (c === ' ' ? ' ' : '<*>')).join(''));
        assert.ok(
          Buffer.byteLength(JSON.stringify(modelAnswer)) + messages.length * 700 <=
            bound.model + messages.length * 700,
        );
      }),
      { numRuns: 60 },
    );
  });
});
